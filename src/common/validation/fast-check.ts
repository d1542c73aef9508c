import { getMetadataStorage, isArray, isBoolean, isObject, isString } from 'class-validator';

/** class-validator's own checks for the constraints the fast path knows (used as class-validator uses them). */
const CHECKS: Record<string, (value: unknown) => boolean> = { isString, isArray, isObject, isBoolean };

type Check = (value: unknown) => boolean;

/**
 * Compiles a DTO's class-validator rules once into a plain predicate that answers "class-validator
 * would find nothing wrong" without building an instance or walking the metadata per call. It
 * knows only constraints without arguments, `each` and `@IsOptional()`; a DTO using anything else
 * gets no fast path (null). A false answer proves nothing: the caller then runs class-validator,
 * which also writes the errors.
 */
export function compileFastCheck(metatype: new () => object): ((body: Record<string, unknown>) => boolean) | null {
  const byField = new Map<string, { optional: boolean; checks: Check[] }>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false)) {
    const field = byField.get(m.propertyName) ?? { optional: false, checks: [] };
    byField.set(m.propertyName, field);
    if (m.groups?.length || m.always || m.context !== undefined || m.validateIf) return null;
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') {
      field.optional = true;
      continue;
    }
    const check = m.type === 'customValidation' && !m.constraints?.length ? CHECKS[m.name ?? ''] : undefined;
    if (!check) return null;
    // `each` checks every element of an array, and a value that is not an array as a whole.
    field.checks.push(m.each ? (v) => (Array.isArray(v) ? v.every(check) : check(v)) : check);
  }
  const fields = [...byField].map(([name, rule]) => ({ name, ...rule }));
  return (body) => {
    for (const { name, optional, checks } of fields) {
      const value = Object.hasOwn(body, name) ? body[name] : undefined;
      if (optional && (value === null || value === undefined)) continue;
      for (const check of checks) if (!check(value)) return false;
    }
    return true;
  };
}
