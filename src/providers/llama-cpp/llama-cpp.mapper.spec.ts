import type { ChatRequestBody } from '../model-backend.js';
import { finishReason, tightenNumberRules, toChatHistory, toGeneration } from './llama-cpp.mapper.js';

const body = (extra: Record<string, unknown>): ChatRequestBody => ({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('llama-cpp mapper', () => {
  it('maps system, developer, user and assistant messages to a history ending with an empty model turn', () => {
    const ignored: string[] = [];
    const history = toChatHistory(
      [
        { role: 'system', content: 'be brief' },
        { role: 'developer', content: [{ type: 'text', text: 'no lists' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hello' },
            { type: 'image_url', image_url: { url: 'x' } },
            { type: 'text', text: 'world' },
          ],
        },
        { role: 'assistant', content: 'hi there' },
        { role: 'tool', content: 'result', tool_call_id: 'a' },
        { role: 'user', content: 'again' },
      ],
      ignored,
    );
    expect(history).toEqual([
      { type: 'system', text: 'be brief' },
      { type: 'system', text: 'no lists' },
      { type: 'user', text: 'hello\nworld' },
      { type: 'model', response: ['hi there'] },
      { type: 'user', text: 'again' },
      { type: 'model', response: [] },
    ]);
    expect(ignored).toEqual(['content part image_url', 'role tool']);
  });

  it('lets max_completion_tokens win over max_tokens and drops a limit below 1', () => {
    expect(toGeneration(body({ max_tokens: 50, max_completion_tokens: 7 })).maxTokens).toBe(7);
    expect(toGeneration(body({ max_tokens: 50 })).maxTokens).toBe(50);
    expect(toGeneration(body({ max_tokens: 0 })).maxTokens).toBeUndefined();
  });

  it('passes sampling settings through and defaults temperature and top_p to OpenAI’s 1', () => {
    const g = toGeneration(body({ temperature: 0.2, top_p: 0.9, top_k: 12, seed: 7, frequency_penalty: 0.5 }));
    expect(g).toMatchObject({ temperature: 0.2, topP: 0.9, topK: 12, seed: 7, frequencyPenalty: 0.5, presencePenalty: undefined });
    expect(toGeneration(body({}))).toMatchObject({ temperature: 1, topP: 1, topK: undefined, seed: undefined });
    expect(toGeneration(body({ seed: -1 })).seed).toBe(4294967295);
  });

  it('refuses more stop strings than OpenAI takes, or one too long to match at every token, naming the field', () => {
    const body = (stop: unknown) => ({ model: 'local', messages: [{ role: 'user', content: 'hi' }], stop });
    expect(() => toGeneration(body(['a', 'b', 'c', 'd', 'e']))).toThrow(expect.objectContaining({ status: 400, param: 'stop' }));
    expect(() => toGeneration(body(['x'.repeat(257)]))).toThrow(expect.objectContaining({ status: 400, param: 'stop' }));
    expect(toGeneration(body(['a', 'b', 'c', 'x'.repeat(256)])).stop).toHaveLength(4);
  });

  it('accepts stop as a string or an array', () => {
    expect(toGeneration(body({ stop: 'END' })).stop).toEqual(['END']);
    expect(toGeneration(body({ stop: ['a', '', 3, 'b'] })).stop).toEqual(['a', 'b']);
    expect(toGeneration(body({ stop: null })).stop).toEqual([]);
  });

  it('reads response_format and keys schemas by their JSON text', () => {
    const schema = { type: 'object', properties: { a: { type: 'boolean' } } };
    expect(toGeneration(body({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })).format).toEqual({
      type: 'json_schema',
      schema,
      key: JSON.stringify(schema),
    });
    expect(toGeneration(body({ response_format: { type: 'json_object' } })).format).toEqual({ type: 'json_object' });
    const odd = toGeneration(body({ response_format: { type: 'grammar' } }));
    expect(odd.format).toEqual({ type: 'text' });
    expect(odd.ignored).toContain('response_format grammar');
  });

  it('lists the settings it cannot honour and stays quiet about unknown extras', () => {
    // n, logprobs and top_logprobs are the token path's to honour (llama-cpp.tokens.mapper).
    const g = toGeneration(body({ n: 2, logprobs: true, top_logprobs: 2, tools: [{}], logit_bias: { 1: 5 }, my_vendor_field: 1, n_ok: 1 }));
    expect(g.ignored).toEqual(['tools', 'logit_bias']);
    expect(toGeneration(body({ n: 1, logprobs: false, user: 'u' })).ignored).toEqual([]);
  });

  it('reports length only when the token limit ended the answer', () => {
    expect(finishReason('maxTokens')).toBe('length');
    for (const r of ['eogToken', 'stopGenerationTrigger', 'customStopTrigger'] as const) expect(finishReason(r)).toBe('stop');
  });

  it('drops exponents from integer rules and bounds them elsewhere, as node-llama-cpp 3.21.1 writes them', () => {
    const gbnf = [
      'root ::= "{" "\\"c\\"" ":" [ ]? integer-number-rule "}"',
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
      'number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws',
    ].join('\n');
    expect(tightenNumberRules(gbnf).split('\n')).toEqual([
      'root ::= "{" "\\"c\\"" ":" [ ]? integer-number-rule "}"',
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15})',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?',
      'number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,2})? ws',
    ]);
  });
});
