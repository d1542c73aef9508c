import { toAnthropicJsonSchema } from './anthropic-json-schema.js';

describe('toAnthropicJsonSchema', () => {
  it('closes every object, keeps what Anthropic compiles and moves other constraints into the description', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, description: 'Full name' },
        born: { type: 'integer', minimum: 1800 },
        email: { type: 'string', format: 'email' },
        site: { type: 'string', format: 'iri' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
        many: { type: 'array', items: { type: 'object', properties: { a: { type: 'number' } } }, minItems: 2 },
        either: { oneOf: [{ type: 'string' }, { type: 'null' }] },
      },
      required: ['name'],
      additionalProperties: true,
    };
    expect(toAnthropicJsonSchema(schema)).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Full name\n\n{minLength: 1}' },
        born: { type: 'integer', description: '{minimum: 1800}' },
        email: { type: 'string', format: 'email' },
        site: { type: 'string', description: '{format: "iri"}' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, description: '{maxItems: 3}' },
        many: { type: 'array', items: { type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false }, description: '{minItems: 2}' },
        either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
      additionalProperties: false,
      required: ['name'],
    });
  });

  it('keeps $ref alone and transforms $defs and definitions', () => {
    const schema = {
      type: 'object',
      properties: { p: { $ref: '#/$defs/P', description: 'dropped beside $ref' } },
      $defs: { P: { type: 'object', properties: {} } },
      definitions: { Q: { type: 'string', pattern: '^q' } },
    };
    expect(toAnthropicJsonSchema(schema)).toEqual({
      $defs: { P: { type: 'object', properties: {}, additionalProperties: false } },
      definitions: { Q: { type: 'string', description: '{pattern: "^q"}' } },
      type: 'object',
      properties: { p: { $ref: '#/$defs/P' } },
      additionalProperties: false,
    });
  });

  it('does not change the schema it is given', () => {
    const schema = { type: 'object', properties: { a: { type: 'string', maxLength: 3 } } };
    const copy = structuredClone(schema);
    toAnthropicJsonSchema(schema);
    expect(schema).toEqual(copy);
  });
});
