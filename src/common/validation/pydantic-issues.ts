import type { ValidationError } from 'class-validator';
import type { ValidationIssue } from '../errors/validation-error.js';

/** pydantic v2's type and message for each class-validator constraint this service uses. */
const BY_CONSTRAINT: Record<string, { type: string; msg: string }> = {
  isString: { type: 'string_type', msg: 'Input should be a valid string' },
  isArray: { type: 'list_type', msg: 'Input should be a valid list' },
  isObject: { type: 'dict_type', msg: 'Input should be a valid dictionary' },
  isBoolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  isInt: { type: 'int_type', msg: 'Input should be a valid integer' },
  isNumber: { type: 'float_type', msg: 'Input should be a valid number' },
};

/** A 422 lists at most this many problems, so a hostile body cannot make it huge. */
const MAX_ISSUES = 100;

const isPlainObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A body that is not a JSON object at all. */
export function bodyShapeIssue(body: unknown): ValidationIssue | null {
  if (body === undefined) return { type: 'missing', loc: ['body'], msg: 'Field required', input: null };
  if (!isPlainObject(body)) {
    return { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body };
  }
  return null;
}

/**
 * class-validator's errors as pydantic v2 reports them, in field order: a missing field is
 * `missing` with the whole body as input; `each` constraints point at the failing index.
 */
export function toPydanticIssues(errors: ValidationError[], body: Record<string, unknown>, eachFields: ReadonlySet<string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const e of errors) {
    if (issues.length >= MAX_ISSUES) break;
    const loc = ['body', e.property];
    const value = body[e.property];
    if (value === undefined) {
      issues.push({ type: 'missing', loc, msg: 'Field required', input: body });
      continue;
    }
    const constraints = Object.keys(e.constraints ?? {});
    if (eachFields.has(e.property) && Array.isArray(value) && constraints.includes('isObject') && !constraints.includes('isArray')) {
      for (let i = 0; i < value.length && issues.length < MAX_ISSUES; i++) {
        if (!isPlainObject(value[i])) issues.push({ type: 'dict_type', loc: [...loc, i], msg: BY_CONSTRAINT.isObject.msg, input: value[i] });
      }
      continue;
    }
    const outer = constraints.includes('isArray') ? 'isArray' : constraints[0];
    const known = BY_CONSTRAINT[outer ?? ''] ?? { type: 'value_error', msg: Object.values(e.constraints ?? {})[0] ?? 'Invalid value' };
    issues.push({ type: known.type, loc, msg: known.msg, input: value });
  }
  return issues;
}
