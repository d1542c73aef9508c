import { readFileSync } from 'node:fs';
import { openAiSchemaErrors } from '../../../test/support/openai-schemas.js';
import { UpstreamError } from '../../common/errors/api-error.js';
import { anthropicHttpError, anthropicStreamError, isAnthropicMessage, toChatCompletion, toUsage, type AnthropicMessage } from './anthropic-reply.mapper.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

describe('toChatCompletion', () => {
  it('turns a text message into a chat.completion for the requested model', () => {
    const reply = toChatCompletion(fixture<AnthropicMessage>('message-text.json'), { provider: 'claude', model: 'my-model' });
    expect(reply).toMatchObject({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      model: 'my-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null }, finish_reason: 'stop', logprobs: null }],
    });
    expect(reply.choices[0].message).not.toHaveProperty('tool_calls');
    expect(openAiSchemaErrors('CreateChatCompletionResponse', reply)).toEqual([]);
  });

  it('counts cache writes and reads as prompt tokens, reads also as cached tokens', () => {
    expect(toChatCompletion(fixture<AnthropicMessage>('message-text.json'), { provider: 'claude', model: 'm' }).usage).toEqual({
      prompt_tokens: 2095 + 100 + 1800,
      completion_tokens: 503,
      total_tokens: 2095 + 100 + 1800 + 503,
      prompt_tokens_details: { cached_tokens: 1800, cache_write_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(toUsage({ input_tokens: 10, output_tokens: 3 })).toEqual({
      prompt_tokens: 10,
      completion_tokens: 3,
      total_tokens: 13,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('turns tool_use blocks into tool calls with JSON arguments', () => {
    const reply = toChatCompletion(fixture<AnthropicMessage>('message-tool-use.json'), { provider: 'claude', model: 'm' });
    const message = reply.choices[0].message;
    expect(message.content).toBe("I'll check the current weather in San Francisco for you.");
    expect(message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } },
    ]);
    expect(JSON.parse((message.tool_calls![0] as { function: { arguments: string } }).function.arguments)).toEqual({
      location: 'San Francisco, CA',
      unit: 'celsius',
    });
    expect(reply.choices[0].finish_reason).toBe('tool_calls');
    expect(openAiSchemaErrors('CreateChatCompletionResponse', reply)).toEqual([]);
  });

  it('answers null content when the message holds no text', () => {
    const message = { ...fixture<AnthropicMessage>('message-tool-use.json') };
    message.content = message.content.filter((b) => b?.type !== 'text');
    expect(toChatCompletion(message, { provider: 'claude', model: 'm' }).choices[0].message.content).toBeNull();
  });

  it('recognises a message and nothing else', () => {
    expect(isAnthropicMessage(fixture('message-text.json'))).toBe(true);
    expect(isAnthropicMessage(fixture('error-invalid-request.json'))).toBe(false);
    expect(isAnthropicMessage({ type: 'message' })).toBe(false);
  });
});

describe('anthropicHttpError', () => {
  it('passes a 400 through with its message in an OpenAI-shaped body, not retryable', () => {
    const err = anthropicHttpError('claude', 400, {}, readFileSync(new URL('./fixtures/error-invalid-request.json', import.meta.url), 'utf8'));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('roles must alternate');
    expect(err.body).toEqual({ error: { message: err.message, type: 'invalid_request_error', param: null, code: null } });
  });

  it.each([408, 429, 500, 529])('makes %i retryable', (status) => {
    const err = anthropicHttpError('claude', status, { 'retry-after': '2' }, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(2000);
    expect(err.message).toBe('Overloaded');
  });

  it('describes a body that is not JSON by its status', () => {
    const err = anthropicHttpError('claude', 502, {}, '<html>bad gateway</html>');
    expect(err.retryable).toBe(true);
    expect(err.body).toEqual({ error: { message: "The upstream 'claude' answered 502.", type: 'server_error', param: null, code: null } });
  });
});

describe('anthropicStreamError', () => {
  it.each(['overloaded_error', 'api_error'])('makes %s a retryable 502', (type) => {
    const err = anthropicStreamError('claude', { type: 'error', error: { type, message: 'Overloaded' } });
    expect([err.status, err.retryable, err.message]).toEqual([502, true, 'Overloaded']);
  });

  it('keeps the meaning of a client error', () => {
    const err = anthropicStreamError('claude', { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } });
    expect([err.status, err.retryable]).toEqual([400, false]);
  });
});

describe('toChatCompletion on the recorded replies (test/fixtures/anthropic)', () => {
  const recorded = (name: string): AnthropicMessage =>
    JSON.parse(readFileSync(new URL(`../../../test/fixtures/anthropic/${name}.json`, import.meta.url), 'utf8'));
  const complete = (name: string, jsonTool?: string) => toChatCompletion(recorded(name), { provider: 'claude', model: 'smart', jsonTool });

  it('thinking-text-tool-use: thinking as reasoning_content and reasoning, the signed block as thinking_blocks, one tool call', () => {
    const reply = complete('thinking-text-tool-use');
    const message = reply.choices[0].message;
    const thinking = 'The user wants the weather in Paris. I have a get_weather tool; I should call it with city Paris.';
    expect(message).toMatchObject({ content: "I'll check the current weather in Paris.", reasoning_content: thinking, reasoning: thinking });
    expect(message.thinking_blocks).toEqual([{ type: 'thinking', thinking, signature: recorded('thinking-text-tool-use').content[0]!.signature }]);
    expect(message.tool_calls).toEqual([
      { id: 'toolu_01WZiYJ1SHx3HbDFJpXsAUMM', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } },
    ]);
    expect(reply.choices[0].finish_reason).toBe('tool_calls');
    // No thinking_tokens in a 2025 reply: estimated from the thinking text, at most the output tokens.
    expect(reply.usage?.completion_tokens_details).toEqual({ reasoning_tokens: Math.ceil(thinking.length / 4) });
    expect(openAiSchemaErrors('CreateChatCompletionResponse', reply)).toEqual([]);
  });

  it('redacted-thinking: both blocks in order, only the readable one in the reasoning text', () => {
    const message = complete('redacted-thinking').choices[0].message;
    const [thinking, redacted] = recorded('redacted-thinking').content;
    expect(message.thinking_blocks).toEqual([
      { type: 'thinking', thinking: thinking!.thinking, signature: thinking!.signature },
      { type: 'redacted_thinking', data: redacted!.data },
    ]);
    expect(message.reasoning_content).toBe('Let me think about how to answer this.');
  });

  it('parallel-tool-use: two calls with distinct ids; thinking_tokens 0 counted as such', () => {
    const reply = complete('parallel-tool-use');
    const calls = reply.choices[0].message.tool_calls as { id: string; function: { arguments: string } }[];
    expect(calls.map((c) => c.id)).toEqual(['toolu_01cQBkG7JW4FFBukFqc449jo', 'toolu_01naJmewcgP71SpoKPGV4iSX']);
    expect(calls.map((c) => JSON.parse(c.function.arguments))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
    expect(reply.choices[0].message).not.toHaveProperty('reasoning_content');
    expect(reply.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 0 });
  });

  it('cache-usage: prompt tokens count reads and writes; cached_tokens are the reads, cache_write_tokens the writes', () => {
    expect(complete('cache-usage').usage).toEqual({
      prompt_tokens: 21 + 1536 + 4096,
      completion_tokens: 12,
      total_tokens: 21 + 1536 + 4096 + 12,
      prompt_tokens_details: { cached_tokens: 4096, cache_write_tokens: 1536 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it.each([
    ['structured-output', 'stop'],
    ['max-tokens', 'length'],
    ['refusal', 'content_filter'],
    ['text', 'stop'],
  ])('%s ends with finish_reason %s', (name, finish) => {
    expect(complete(name).choices[0].finish_reason).toBe(finish);
  });

  it('structured-output: the JSON text is the content', () => {
    expect(JSON.parse(complete('structured-output').choices[0].message.content!)).toEqual({
      name: 'Ada Lovelace',
      born: 1815,
      fields: ['mathematics', 'computing'],
    });
  });

  it("returns the response_format tool's input as the content, with finish_reason stop, and text beside it left out", () => {
    const message: AnthropicMessage = {
      ...recorded('thinking-text-tool-use'),
      content: [
        { type: 'text', text: 'Here it is:' },
        { type: 'tool_use', id: 'toolu_1', name: 'json_response', input: { city: 'Paris' } },
      ],
    };
    const reply = toChatCompletion(message, { provider: 'claude', model: 'smart', jsonTool: 'json_response' });
    expect(reply.choices[0]).toMatchObject({ message: { content: '{"city":"Paris"}' }, finish_reason: 'stop' });
    expect(reply.choices[0].message).not.toHaveProperty('tool_calls');
    // Without the tool in the request, a tool of that name is an ordinary call.
    expect(toChatCompletion(message, { provider: 'claude', model: 'smart' }).choices[0].finish_reason).toBe('tool_calls');
  });

  it('fails a reply without a stop reason, and passes an unknown one on as written', () => {
    expect(() => toChatCompletion({ ...recorded('text'), stop_reason: null }, { provider: 'claude', model: 'm' })).toThrow(
      expect.objectContaining({ status: 502, code: 'upstream_invalid_reply' }),
    );
    expect(toChatCompletion({ ...recorded('text'), stop_reason: 'compaction' }, { provider: 'claude', model: 'm' }).choices[0].finish_reason).toBe(
      'compaction',
    );
  });
});
