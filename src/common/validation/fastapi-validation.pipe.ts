import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validateSync } from 'class-validator';
import { RequestValidationError } from '../errors/validation-error.js';
import { compileFastCheck } from './fast-check.js';
import { bodyShapeIssue, toPydanticIssues } from './pydantic-issues.js';

type Ctor = new () => object;

interface Rules {
  /** The declared fields (copied onto the instance class-validator checks). */
  fields: string[];
  /** Fields whose rules apply to each element. */
  each: Set<string>;
  /** Answers "valid" without class-validator for the common case; null when the rules are beyond it. */
  fast: ((body: Record<string, unknown>) => boolean) | null;
}

/**
 * Validates a body against its DTO's class-validator rules and answers failures as FastAPI's 422.
 * It returns the body the client sent, unknown fields included: the DTO instance only carries
 * the declared fields for validation, so nothing is stripped and no key (not even `__proto__`)
 * is copied onto an object whose prototype matters.
 */
@Injectable()
export class FastApiValidationPipe implements PipeTransform {
  private readonly rulesByClass = new Map<Ctor, Rules>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as Ctor | undefined;
    if (metadata.type !== 'body' || !metatype || metatype === Object) return value;
    const shape = bodyShapeIssue(value);
    if (shape) throw new RequestValidationError([shape]);
    const body = value as Record<string, unknown>;
    const { fields, each, fast } = this.rules(metatype);
    if (fast?.(body)) return body;
    const instance = Object.create(metatype.prototype as object) as Record<string, unknown>;
    for (const field of fields) {
      if (Object.hasOwn(body, field)) instance[field] = body[field];
    }
    const errors = validateSync(instance, { forbidUnknownValues: false, validationError: { target: false, value: true } });
    if (errors.length > 0) throw new RequestValidationError(toPydanticIssues(errors, body, each));
    return body;
  }

  /** A DTO's rules, read from class-validator's metadata once per class. */
  private rules(metatype: Ctor): Rules {
    let rules = this.rulesByClass.get(metatype);
    if (!rules) {
      const metas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
      rules = {
        fields: [...new Set(metas.map((m) => m.propertyName))],
        each: new Set(metas.filter((m) => m.each).map((m) => m.propertyName)),
        fast: compileFastCheck(metatype),
      };
      this.rulesByClass.set(metatype, rules);
    }
    return rules;
  }
}
