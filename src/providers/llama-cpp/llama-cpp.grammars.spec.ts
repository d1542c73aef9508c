import { unenforcedKeywords } from './llama-cpp.grammars.js';

describe('unenforcedKeywords', () => {
  it('is empty for a schema the grammar enforces whole, annotations included', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'probe',
      type: 'object',
      properties: { answer: { enum: ['yes', 'no'], description: 'the answer' }, tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 2 } },
      required: ['answer', 'tags'],
      additionalProperties: false,
    };
    expect(unenforcedKeywords(schema)).toEqual([]);
  });

  it('names the keywords left unenforced, however deep, once each', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^x' }] },
        score: { type: 'number', minimum: 0, maximum: 1 },
        list: { type: 'array', items: { type: 'integer', minimum: 1 } },
        ref: { $ref: '#/$defs/code' },
      },
      $defs: { code: { type: 'string', pattern: '^[A-Z]+$' } },
    };
    expect(unenforcedKeywords(schema).sort()).toEqual(['anyOf', 'maximum', 'minimum', 'pattern']);
  });
});
