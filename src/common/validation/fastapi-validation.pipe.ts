import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validateSync } from 'class-validator';
import { RequestValidationError } from '../errors/validation-error.js';
import { compileFastCheck } from './fast-check.js';
import { bodyShapeIssue, toPydanticIssues } from './pydantic-issues.js';

type Ctor = new () => object;

/**
 * Validates a body against its DTO's class-validator rules and answers failures as FastAPI's 422.
 * It returns the body the client sent, unknown fields included: the DTO instance only carries
 * the declared fields for validation, so nothing is stripped and no key (not even `__proto__`)
 * is copied onto an object whose prototype matters.
 */
@Injectable()
export class FastApiValidationPipe implements PipeTransform {
  private readonly fieldsByClass = new Map<Ctor, { fields: string[]; each: Set<string> }>();
  private readonly fastChecks = new Map<Ctor, ((body: Record<string, unknown>) => boolean) | null>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as Ctor | undefined;
    if (metadata.type !== 'body' || !metatype || metatype === Object) return value;
    const shape = bodyShapeIssue(value);
    if (shape) throw new RequestValidationError([shape]);
    const body = value as Record<string, unknown>;
    if (this.fastCheck(metatype)?.(body)) return body;
    const instance = Object.create(metatype.prototype) as Record<string, unknown>;
    const { fields, each } = this.fields(metatype);
    for (const field of fields) {
      if (Object.hasOwn(body, field)) instance[field] = body[field];
    }
    const errors = validateSync(instance, { forbidUnknownValues: false, validationError: { target: false, value: true } });
    if (errors.length > 0) throw new RequestValidationError(toPydanticIssues(errors, body, each));
    return body;
  }

  private fastCheck(metatype: Ctor): ((body: Record<string, unknown>) => boolean) | null {
    let check = this.fastChecks.get(metatype);
    if (check === undefined) {
      check = compileFastCheck(metatype);
      this.fastChecks.set(metatype, check);
    }
    return check;
  }

  private fields(metatype: Ctor): { fields: string[]; each: Set<string> } {
    let known = this.fieldsByClass.get(metatype);
    if (!known) {
      const metas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
      known = { fields: [...new Set(metas.map((m) => m.propertyName))], each: new Set(metas.filter((m) => m.each).map((m) => m.propertyName)) };
      this.fieldsByClass.set(metatype, known);
    }
    return known;
  }
}
