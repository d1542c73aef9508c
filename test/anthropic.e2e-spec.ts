import { ConsoleLogger, Logger } from '@nestjs/common';
import { ApiError, UpstreamError, UpstreamTimeoutError } from '../src/common/errors/api-error.js';
import { AnthropicBackend } from '../src/providers/anthropic/anthropic.backend.js';
import { AnthropicProviderConfig } from '../src/providers/anthropic/anthropic.config.js';
import type { BackendRequest, ChatCompletionChunk, ChunkFrame } from '../src/providers/model-backend.js';
import { AnthropicMock, message, messageEvents, sendError, sendEvents, sendMessage, sleep } from './support/anthropic-mock.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';

const API_KEY = 'sk-ant-mock-secret';

function request(body: Record<string, unknown>, model = 'claude-sonnet-4-5'): BackendRequest {
  const json = { model: 'claude', messages: [{ role: 'user', content: 'Hi' }], ...body } as BackendRequest['body']['json'];
  return { body: { json }, requestedModel: 'claude', model };
}

/** The settings of an `anthropic` provider entry, its defaults filled in. */
const config = (settings: Partial<AnthropicProviderConfig>): AnthropicProviderConfig => ({ ...new AnthropicProviderConfig(), ...settings });

async function collect(stream: AsyncIterable<ChunkFrame>): Promise<{ chunks: ChatCompletionChunk[]; error?: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const { chunk } of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks };
}

const text = (chunks: ChatCompletionChunk[]) =>
  chunks
    .map((c) => {
      const content = c.choices[0]?.delta.content;
      return typeof content === 'string' ? content : '';
    })
    .join('');
const finishReason = (chunks: ChatCompletionChunk[]) => chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason;
const schemaErrors = (chunks: ChatCompletionChunk[]) => chunks.flatMap((c) => openAiSchemaErrors('CreateChatCompletionStreamResponse', c));

describe('the anthropic backend against a local Messages API', () => {
  const mock = new AnthropicMock(API_KEY);
  const warnings: string[] = [];
  let backend: AnthropicBackend;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    await mock.start();
    backend = new AnthropicBackend(
      'claude',
      config({ baseURL: mock.baseURL, apiKey: API_KEY, version: '2023-06-01', defaultMaxTokens: 4096, timeoutMs: 1000 }),
    );
    Logger.overrideLogger({ log() {}, error() {}, warn: (m: unknown) => void warnings.push(String(m)) });
  });
  afterAll(async () => {
    Logger.overrideLogger(new ConsoleLogger());
    // The mock first: it cuts any request a broken test left hanging, so the pool can close.
    await mock.stop();
    await backend.close();
  });
  beforeEach(() => {
    warnings.length = 0;
    mock.reset((call, res) => sendMessage(res, message(call.json.model, [{ type: 'text', text: 'Hello from Claude.' }])));
  });

  it('answers a text reply as a chat.completion for the requested model', async () => {
    const { completion: reply } = await backend.complete(request({}), signal);
    expect(reply).toMatchObject({
      object: 'chat.completion',
      model: 'claude',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from Claude.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
    expect(openAiSchemaErrors('CreateChatCompletionResponse', reply)).toEqual([]);
    expect(mock.calls[0].json).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] });
  });

  it('authenticates with x-api-key and anthropic-version only, streamed or not', async () => {
    mock.reset((call, res) => {
      const msg = message(call.json.model, [{ type: 'text', text: 'ok' }]);
      return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
    });
    await backend.complete(request({}), signal);
    await collect(backend.stream(request({ stream: true }), signal));
    expect(mock.calls.map((c) => c.json.stream ?? false)).toEqual([false, true]);
    for (const { headers } of mock.calls) {
      expect(headers['x-api-key']).toBe(API_KEY);
      expect(headers['anthropic-version']).toBe('2023-06-01');
      expect(headers['content-type']).toBe('application/json');
      for (const other of ['authorization', 'proxy-authorization', 'api-key', 'x-goog-api-key', 'openai-organization'])
        expect(headers).not.toHaveProperty(other);
    }
  });

  it('merges system and developer messages into the top-level system', async () => {
    await backend.complete(
      request({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Reply in French.' }] },
          { role: 'user', content: 'Hi' },
        ],
      }),
      signal,
    );
    expect(mock.calls[0].json.system).toBe('You are terse.\n\nReply in French.');
    expect(mock.calls[0].json.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it('sends image parts as base64 and url image blocks', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    await backend.complete(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these.' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
              { type: 'image_url', image_url: { url: 'https://upload.example.com/cat.jpg' } },
            ],
          },
        ],
      }),
      signal,
    );
    expect(mock.calls[0].json.messages[0].content).toEqual([
      { type: 'text', text: 'Compare these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      { type: 'image', source: { type: 'url', url: 'https://upload.example.com/cat.jpg' } },
    ]);
  });

  it('round-trips tools: definitions and tool_choice out, tool calls back, tool results out again', async () => {
    const input = { city: 'Paris', days: 3, units: { temp: 'C' } };
    mock.reset((call, res) =>
      sendMessage(
        res,
        message(
          call.json.model,
          [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_01Weather', name: 'get_weather', input },
          ],
          'tool_use',
        ),
      ),
    );
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather forecast', parameters } }];
    const ask = [{ role: 'user', content: 'Weather in Paris?' }];
    const { completion: first } = await backend.complete(request({ messages: ask, tools, tool_choice: 'required', parallel_tool_calls: false }), signal);

    expect(mock.calls[0].json.tools).toEqual([{ name: 'get_weather', description: 'Weather forecast', input_schema: parameters }]);
    expect(mock.calls[0].json.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    const assistant = first.choices[0].message;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(assistant.tool_calls).toEqual([{ id: 'toolu_01Weather', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(input) } }]);
    expect(openAiSchemaErrors('CreateChatCompletionResponse', first)).toEqual([]);

    mock.reset((call, res) => sendMessage(res, message(call.json.model, [{ type: 'text', text: 'Sunny, 21°C.' }])));
    const { completion: second } = await backend.complete(
      request({
        messages: [...ask, assistant, { role: 'tool', tool_call_id: 'toolu_01Weather', content: '{"sky":"sunny","temp":21}' }],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      }),
      signal,
    );
    expect(mock.calls[0].json.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    expect(mock.calls[0].json.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_01Weather', name: 'get_weather', input },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Weather', content: '{"sky":"sunny","temp":21}' }] },
    ]);
    expect(second.choices[0].message.content).toBe('Sunny, 21°C.');
  });

  it('refuses tool call arguments that are not JSON with a 400, before calling upstream', async () => {
    const messages = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":' } }] },
    ];
    const err = await backend.complete(request({ messages }), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, param: 'messages[1].tool_calls[0].function.arguments' });
    expect(mock.calls).toHaveLength(0);
  });

  it('clamps temperature, ignores settings Anthropic lacks, and logs a warning instead of failing', async () => {
    const { completion: reply } = await backend.complete(request({ temperature: 1.5, n: 3, seed: 42 }), signal);
    expect(reply.choices).toHaveLength(1);
    expect(mock.calls[0].json).toMatchObject({ temperature: 1 });
    expect(mock.calls[0].json).not.toHaveProperty('n');
    expect(mock.calls[0].json).not.toHaveProperty('seed');
    expect(warnings.join('\n')).toMatch(/temperature 1\.5[\s\S]*n ignored[\s\S]*seed ignored/);
  });

  it('streams text as chat.completion.chunk objects under one id', async () => {
    const answer = 'The quick brown fox jumps over the lazy dog.';
    mock.reset((call, res) => sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: answer }])), { gapMs: 2 }));
    const { chunks, error } = await collect(backend.stream(request({ stream: true }), signal));
    expect(error).toBeUndefined();
    expect(mock.calls[0].json.stream).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(text(chunks)).toBe(answer);
    expect(chunks.length).toBeGreaterThan(5);
    expect(finishReason(chunks)).toBe('stop');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === 'claude')).toBe(true);
    expect(schemaErrors(chunks)).toEqual([]);
  });

  it('streams tool-call arguments that the client assembles into the input the upstream sent', async () => {
    const input = { query: 'weather "Paris"', filters: { days: [1, 2, 3], unit: 'C' }, note: 'ünïcødé ✓' };
    const other = { id: 'toolu_02', name: 'now', input: {} };
    mock.reset((call, res) =>
      sendEvents(
        res,
        messageEvents(
          message(
            call.json.model,
            [
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_01', name: 'search', input },
              { type: 'tool_use', ...other },
            ],
            'tool_use',
          ),
        ),
      ),
    );
    const { chunks, error } = await collect(backend.stream(request({ stream: true, tools: [{ type: 'function', function: { name: 'search' } }] }), signal));
    expect(error).toBeUndefined();
    const calls: { id?: string; name?: string; args: string }[] = [];
    for (const c of chunks) {
      for (const t of (c.choices[0]?.delta.tool_calls as { index: number; id?: string; function: { name?: string; arguments?: string } }[]) ?? []) {
        const call = (calls[t.index] ??= { args: '' });
        call.id ??= t.id;
        call.name ??= t.function.name;
        call.args += t.function.arguments ?? '';
      }
    }
    expect(calls.map((c) => [c.id, c.name])).toEqual([
      ['toolu_01', 'search'],
      ['toolu_02', 'now'],
    ]);
    expect(JSON.parse(calls[0].args)).toEqual(input);
    expect(JSON.parse(calls[1].args)).toEqual({});
    expect(chunks.filter((c) => c.choices[0]?.delta.tool_calls).length).toBeGreaterThan(4);
    expect(finishReason(chunks)).toBe('tool_calls');
    expect(schemaErrors(chunks)).toEqual([]);
  });

  it('ends with a usage chunk when include_usage is set: input from message_start, output from message_delta', async () => {
    const usage = { input_tokens: 30, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 17 };
    mock.reset((call, res) => sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: 'Counted.' }], 'end_turn', usage))));
    const withUsage = await collect(backend.stream(request({ stream: true, stream_options: { include_usage: true } }), signal));
    const last = withUsage.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 135,
      completion_tokens: 17,
      total_tokens: 152,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 5 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(last.id).toBe(withUsage.chunks[0].id);
    expect(schemaErrors(withUsage.chunks)).toEqual([]);
    // The backend reports its usage whether asked or not; the service passes it on only when asked (backend-contract spec).
    const without = await collect(backend.stream(request({ stream: true }), signal));
    expect(without.chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 17 } });
  });

  it('maps stop_sequence to stop and max_tokens to length, streamed or not', async () => {
    mock.reset((call, res) => {
      const reason = call.json.stop_sequences ? 'stop_sequence' : 'max_tokens';
      const msg = message(call.json.model, [{ type: 'text', text: 'One two' }], reason);
      return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
    });
    const { completion: stopped } = await backend.complete(request({ stop: '###' }), signal);
    expect(mock.calls[0].json.stop_sequences).toEqual(['###']);
    expect(stopped.choices[0].finish_reason).toBe('stop');
    const { completion: cut } = await backend.complete(request({ max_completion_tokens: 2 }), signal);
    expect(mock.calls[1].json.max_tokens).toBe(2);
    expect(cut.choices[0].finish_reason).toBe('length');
    expect(finishReason((await collect(backend.stream(request({ stream: true, stop: ['###'] }), signal))).chunks)).toBe('stop');
    expect(finishReason((await collect(backend.stream(request({ stream: true, max_tokens: 2 }), signal))).chunks)).toBe('length');
  });

  it('passes a 400 through with its status and message in an OpenAI-shaped body, streamed or not', async () => {
    const why = 'max_tokens: 999999 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5';
    mock.reset((_call, res) => sendError(res, 400, 'invalid_request_error', why));
    for (const attempt of [() => backend.complete(request({}), signal), async () => (await collect(backend.stream(request({ stream: true }), signal))).error]) {
      const err = (await Promise.resolve(attempt()).catch((e: unknown) => e)) as UpstreamError;
      expect(err).toBeInstanceOf(UpstreamError);
      expect([err.status, err.retryable, err.message]).toEqual([400, false, why]);
      expect(err.body).toEqual({ error: { message: why, type: 'invalid_request_error', param: null, code: null } });
    }
  });

  it.each([
    [529, 'overloaded_error', 'Overloaded'],
    [500, 'api_error', 'Internal server error'],
  ])('makes a %i a retryable UpstreamError', async (status, type, why) => {
    mock.reset((_call, res) => sendError(res, status, type, why, { 'retry-after': '3' }));
    const err = (await backend.complete(request({}), signal).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect([err.status, err.retryable, err.message, err.retryAfterMs]).toEqual([status, true, why, 3000]);
  });

  it('throws on an error event mid-stream, after the chunks that came before it', async () => {
    mock.reset(async (call, res) => {
      const events = messageEvents(message(call.json.model, [{ type: 'text', text: 'Once upon a time' }])).slice(0, 6);
      await sendEvents(res, [...events, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]);
    });
    const { chunks, error } = await collect(backend.stream(request({ stream: true }), signal));
    expect(chunks.length).toBeGreaterThan(1);
    expect(text(chunks)).toBe('Once upon a tim');
    expect(finishReason(chunks)).toBeUndefined();
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 502, retryable: true, message: 'Overloaded' });
  });

  it('fails a stream that ends without message_stop instead of passing it off as complete', async () => {
    mock.reset((call, res) => sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: 'Half an ans' }])).slice(0, -3)));
    const { chunks, error } = await collect(backend.stream(request({ stream: true }), signal));
    expect(text(chunks)).toBe('Half an ans');
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 502, code: 'upstream_invalid_reply' });
  });

  it('closes the upstream connection within 100 ms of the client aborting mid-stream', async () => {
    mock.reset((call, res) =>
      sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: 'A long story that never ends' }])).slice(0, 5), { end: false }),
    );
    const controller = new AbortController();
    const it = backend.stream(request({ stream: true }), controller.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value?.chunk.choices[0].delta.role).toBe('assistant');
    expect((await it.next()).value?.chunk.choices[0].delta.content).toBe('A lon');
    const call = mock.calls[0];
    expect(call.closedAt).toBeUndefined();
    const abortedAt = Date.now();
    controller.abort(new Error('client went away'));
    await Promise.race([call.closed, sleep(500)]);
    expect(call.finished).toBe(false);
    expect(call.closedAt! - abortedAt).toBeLessThan(100);
    await expect(it.next()).rejects.toBeDefined();
  });

  it('closes the upstream connection when the client aborts a non-streamed request', async () => {
    mock.reset(() => undefined);
    const controller = new AbortController();
    const pending = backend.complete(request({}), controller.signal).catch((e: unknown) => e);
    while (mock.calls.length === 0) await sleep(5);
    const abortedAt = Date.now();
    controller.abort(new Error('client went away'));
    expect(await Promise.race([pending, sleep(500).then(() => 'still pending')])).toBeInstanceOf(Error);
    await Promise.race([mock.calls[0].closed, sleep(500)]);
    expect(mock.calls[0].closedAt! - abortedAt).toBeLessThan(100);
  });

  it('gives up with a timeout when the upstream stays silent past timeoutMs', async () => {
    const impatient = new AnthropicBackend(
      'slow',
      config({ baseURL: mock.baseURL, apiKey: API_KEY, version: '2023-06-01', defaultMaxTokens: 10, timeoutMs: 150 }),
    );
    try {
      mock.reset(() => undefined);
      const started = Date.now();
      const err = await impatient.complete(request({}), signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamTimeoutError);
      expect(Date.now() - started).toBeLessThan(1000);
      mock.reset((call, res) => sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: 'stalls' }])).slice(0, 4), { end: false }));
      const { chunks, error } = await collect(impatient.stream(request({ stream: true }), signal));
      expect(chunks.length).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(UpstreamTimeoutError);
    } finally {
      await impatient.close();
    }
  });

  it('does not count a slow reader against the deadline: a healthy stream read with pauses longer than timeoutMs completes', async () => {
    const patient = new AnthropicBackend(
      'patient',
      config({ baseURL: mock.baseURL, apiKey: API_KEY, version: '2023-06-01', defaultMaxTokens: 10, timeoutMs: 300 }),
    );
    try {
      mock.reset((call, res) => sendEvents(res, messageEvents(message(call.json.model, [{ type: 'text', text: 'a steady stream of text' }])), { gapMs: 100 }));
      const chunks: ChatCompletionChunk[] = [];
      // The upstream keeps sending while the reader is away (as when a client's socket is full): its events wait, unread.
      for await (const { chunk } of patient.stream(request({ stream: true }), signal)) if (chunks.push(chunk) === 2) await sleep(900);
      expect(text(chunks)).toBe('a steady stream of text');
      expect(finishReason(chunks)).toBe('stop');
    } finally {
      await patient.close();
    }
  });
});
