import { ApiError } from '../../common/errors/api-error.js';
import { JSON_TOOL_NAME } from './anthropic-response-format.mapper.js';
import { toAnthropicRequest } from './anthropic.mapper.js';

const translate = (body: Record<string, unknown>, model: string) =>
  toAnthropicRequest(
    { model: 'claude', messages: [{ role: 'user', content: 'Who was Ada Lovelace?' }], ...body },
    {
      model,
      defaultMaxTokens: 4096,
      stream: false,
    },
  );

const schema = {
  type: 'object',
  properties: { name: { type: 'string' }, born: { type: 'integer', minimum: 1800 } },
  required: ['name', 'born'],
  additionalProperties: false,
};
const jsonSchema = { type: 'json_schema', json_schema: { name: 'person', strict: true, schema } };
const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: {} } } }];

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('response_format', () => {
  it('json_schema on a model with structured outputs: output_config.format with the schema Anthropic compiles, no tool', () => {
    const t = translate({ response_format: jsonSchema }, 'claude-sonnet-4-5');
    expect(t.request.output_config).toEqual({
      format: {
        type: 'json_schema',
        schema: {
          type: 'object',
          properties: { name: { type: 'string' }, born: { type: 'integer', description: '{minimum: 1800}' } },
          additionalProperties: false,
          required: ['name', 'born'],
        },
      },
    });
    expect(t.request).not.toHaveProperty('tools');
    expect(t.jsonTool).toBeUndefined();
    expect(t.warnings).toEqual([]);
  });

  it('json_schema on an older model: a forced tool whose input schema is the schema', () => {
    const t = translate(
      { response_format: { type: 'json_schema', json_schema: { name: 'person', description: 'A person', schema } } },
      'claude-sonnet-4-20250514',
    );
    expect(t.request.tools).toEqual([{ name: JSON_TOOL_NAME, description: 'A person', input_schema: schema }]);
    expect(t.request.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL_NAME });
    expect(t.request).not.toHaveProperty('output_config');
    expect(t.jsonTool).toBe(JSON_TOOL_NAME);
  });

  it('json_object on any model: the tool with any object as input (Anthropic has no JSON mode)', () => {
    for (const model of ['claude-opus-4-8', 'claude-3-5-haiku-20241022']) {
      const t = translate({ response_format: { type: 'json_object' } }, model);
      expect(t.request.tools).toEqual([{ name: JSON_TOOL_NAME, description: expect.any(String), input_schema: { type: 'object' } }]);
      expect(t.request.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL_NAME });
    }
  });

  it("beside the client's tools the JSON tool makes some tool call required; a named tool choice stays the client's", () => {
    const own = translate({ response_format: { type: 'json_object' }, tools, parallel_tool_calls: false }, 'claude-opus-4-8');
    expect(own.request.tools).toHaveLength(2);
    expect(own.request.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    const named = translate(
      { response_format: { type: 'json_object' }, tools, tool_choice: { type: 'function', function: { name: 'search' } } },
      'claude-opus-4-8',
    );
    expect(named.request.tool_choice).toEqual({ type: 'tool', name: 'search' });
    const none = translate({ response_format: { type: 'json_object' }, tools, tool_choice: 'none' }, 'claude-opus-4-8');
    expect(none.request.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL_NAME });
  });

  it('does not force the JSON tool while thinking (Anthropic refuses that)', () => {
    const t = translate({ response_format: jsonSchema, reasoning_effort: 'low' }, 'claude-sonnet-4-20250514');
    expect(t.request.tools).toHaveLength(1);
    expect(t.request).not.toHaveProperty('tool_choice');
    expect(t.request.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });

  it('sends both the format and the effort in one output_config', () => {
    expect(translate({ response_format: jsonSchema, reasoning_effort: 'high' }, 'claude-opus-4-8').request.output_config).toEqual({
      format: expect.objectContaining({ type: 'json_schema' }),
      effort: 'high',
    });
  });

  it('asks for nothing with text', () => {
    const t = translate({ response_format: { type: 'text' } }, 'claude-opus-4-8');
    expect(t.request).not.toHaveProperty('output_config');
    expect(t.request).not.toHaveProperty('tools');
  });

  it.each([
    [{ response_format: { type: 'yaml' } }, 'claude-opus-4-8', 'response_format.type'],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: 'object' } } }, 'claude-opus-4-8', 'response_format.json_schema.schema'],
    [
      { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array' } } } },
      'claude-sonnet-4-0',
      'response_format.json_schema.schema',
    ],
    [{ response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: JSON_TOOL_NAME } }] }, 'claude-opus-4-8', 'tools'],
  ])('refuses %j on %s with a 400 naming %s', (body, model, param) => {
    expect(refusal(() => translate(body, model))).toMatchObject({ status: 400, param });
  });

  it('sends strict tools where the model has structured outputs, and drops strict where it has not', () => {
    const strict = [
      { type: 'function', function: { name: 'f', strict: true, parameters: { type: 'object', properties: { n: { type: 'integer', maximum: 3 } } } } },
    ];
    expect(translate({ tools: strict }, 'claude-opus-4-8').request.tools).toEqual([
      {
        name: 'f',
        input_schema: { type: 'object', properties: { n: { type: 'integer', description: '{maximum: 3}' } }, additionalProperties: false },
        strict: true,
      },
    ]);
    expect(translate({ tools: strict }, 'claude-3-5-haiku-20241022').request.tools).toEqual([{ name: 'f', input_schema: strict[0].function.parameters }]);
  });
});
