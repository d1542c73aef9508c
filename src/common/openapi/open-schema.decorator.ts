import { ApiSchema } from '@nestjs/swagger';

export interface SchemaExtras {
  /** The component schema's name (what `$ref`s point at). */
  name: string;
  title?: string;
  description?: string;
  /** FastAPI writes `additionalProperties: true` on open pydantic models. */
  additionalProperties?: boolean;
  /** Properties that accept any JSON value: written with no `type`, as pydantic's `Any`. */
  untyped?: string[];
}

const registry = new Map<string, SchemaExtras>();

/**
 * `@ApiSchema` plus what it cannot express (a schema `title`, `additionalProperties: true`);
 * `finalizeDocument` writes those into the generated spec.
 */
export function OpenApiSchema(extras: SchemaExtras): ClassDecorator {
  registry.set(extras.name, extras);
  return ApiSchema({ name: extras.name, description: extras.description });
}

export function schemaExtras(): ReadonlyMap<string, SchemaExtras> {
  return registry;
}
