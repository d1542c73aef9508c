import type { OpenAPIObject } from '@nestjs/swagger';
import { schemaExtras } from './open-schema.decorator.js';

type Schema = Record<string, unknown>;

/** OpenAPI 3.0's `nullable: true` written as 3.1 does it: a `null` type alternative. */
function toOpenApi31(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(toOpenApi31);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Schema;
  if (schema.nullable === true) {
    delete schema.nullable;
    if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
    else if (schema.$ref || schema.allOf) {
      const inner: Schema = {};
      for (const k of ['$ref', 'allOf'])
        if (k in schema) {
          inner[k] = schema[k];
          delete schema[k];
        }
      schema.anyOf = [inner, { type: 'null' }];
    }
  }
  for (const v of Object.values(schema)) toOpenApi31(v);
}

/**
 * Turns what @nestjs/swagger generates into the published spec: OpenAPI 3.1, schema titles and
 * `additionalProperties: true` from @OpenApiSchema, and schemas in the seed's key order.
 */
export function finalizeDocument(doc: OpenAPIObject): OpenAPIObject {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, Schema>;
  for (const [name, extras] of schemaExtras()) {
    const schema = schemas[name];
    if (!schema) continue;
    if (extras.additionalProperties !== undefined) schema.additionalProperties = extras.additionalProperties;
    if (extras.title) schema.title = extras.title;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of extras.untyped ?? []) if (properties[name]) delete properties[name].type;
  }
  toOpenApi31(doc.paths);
  toOpenApi31(doc.components);
  return { ...doc, openapi: '3.1.0', security: doc.security ?? [] };
}
