import type { ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
// The one line to change if the generator moves again.
import { writeTinyGguf } from './support/tiny-gguf.js';
import { AnthropicMock, message, sendError, sendMessage, type MessagesCall } from './support/anthropic-mock.js';
import { KEY, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { MockUpstream, reply, sleep, type RecordedRequest } from './support/mock-upstream.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';

/**
 * One contract, every backend (issue #17): what a client of /v1/chat/completions may count on,
 * whichever backend serves the model. Each backend is configured through CONFIG_FILE as an
 * operator would; where backends legitimately differ, the row says so.
 */

const METRICS_TOKEN = 'contract-metrics-token';
const HELLO = [{ role: 'user', content: 'Hello there from the contract spec' }];

// ---- The mock upstreams' "model": a short answer, or, asked for a story, words without end. ----

const ANSWER = 'The quick brown fox jumps over the lazy dog.';
const STORY = 'Tell me a story that never ends.';

function* modelTokens(prompt: string): Generator<string> {
  if (prompt !== STORY) return yield* ANSWER.split(' ').map((w, i) => (i ? ` ${w}` : w));
  for (let i = 0; ; i++) yield i ? ' and on' : 'On';
}

/** What the model writes within `limit` tokens; `cut` when the limit, not the answer, ended it. */
function generate(prompt: string, limit: number): { tokens: Iterable<string>; cut: () => boolean; count: () => number } {
  let count = 0;
  let cut = false;
  function* tokens() {
    for (const t of modelTokens(prompt)) {
      if (count === limit) return void (cut = true);
      count++;
      yield t;
    }
  }
  return { tokens: tokens(), cut: () => cut, count: () => count };
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join(' ') : '';
const lastUserText = (messages: { role: string; content: unknown }[]) => textOf(messages.filter((m) => m.role === 'user').at(-1)?.content);
const promptTokens = (messages: { content: unknown }[]) => 3 + messages.reduce((n, m) => n + words(textOf(m.content)), 0);

/** Writes SSE frames as they are made, a little apart, until they end or the client leaves. */
async function writeFrames(res: ServerResponse, frames: Iterable<string>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const frame of frames) {
    if (res.destroyed) return;
    res.write(frame);
    await sleep(2);
  }
  res.end();
}

// ---- vLLM's OpenAI server: replies as `model_dump()` writes them (nulls included), chunks without unset fields. ----

type VllmErrorShape = 'nested' | 'flat';

function answerAsVllm(errorShape: VllmErrorShape) {
  return (req: RecordedRequest, res: ServerResponse) => {
    const error = (status: number, text: string, type: string, param: string | null) => {
      // vLLM 0.10.1 and later nest the error as OpenAI does (vllm#22099); earlier versions wrote it flat, with `object: "error"`.
      const info = { message: text, type, param, code: status };
      reply(res, status, errorShape === 'nested' ? { error: info } : { object: 'error', ...info });
    };
    const body = req.json;
    if (body.model !== 'Qwen/Qwen3-8B') return error(404, `The model \`${body.model}\` does not exist.`, 'NotFoundError', 'model');
    const limit = body.max_completion_tokens ?? body.max_tokens;
    if (typeof limit === 'number' && limit < 1) return error(400, `max_tokens must be at least 1, got ${limit}.`, 'BadRequestError', 'max_tokens');
    const answer = generate(lastUserText(body.messages), limit ?? Infinity);
    const prompt = promptTokens(body.messages);
    const usage = () => ({ prompt_tokens: prompt, total_tokens: prompt + answer.count(), completion_tokens: answer.count() });
    const id = 'chatcmpl-9f1c2d3e4b5a';
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      const content = [...answer.tokens].join('');
      const msg = { role: 'assistant', content, refusal: null, annotations: null, audio: null, function_call: null, tool_calls: [], reasoning: null };
      return reply(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message: msg, logprobs: null, finish_reason: answer.cut() ? 'length' : 'stop', stop_reason: null, token_ids: null }],
        service_tier: null,
        system_fingerprint: null,
        usage: { ...usage(), prompt_tokens_details: null },
        prompt_logprobs: null,
        prompt_token_ids: null,
        kv_transfer_params: null,
      });
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`;
    const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
      index: 0,
      delta: { ...d, reasoning_content: null },
      logprobs: null,
      finish_reason: finish,
      ...(finish ? { stop_reason: null } : {}),
    });
    return writeFrames(
      res,
      (function* () {
        yield chunk([delta({ role: 'assistant', content: '' })]);
        for (const t of answer.tokens) yield chunk([delta({ content: t })]);
        yield chunk([delta({ content: '' }, answer.cut() ? 'length' : 'stop')]);
        if (body.stream_options?.include_usage) yield chunk([], { usage: usage() });
        yield 'data: [DONE]\n\n';
      })(),
    );
  };
}

// ---- Anthropic's Messages API: message_start, content_block_*, message_delta, message_stop; errors as {type: "error"}. ----

function answerAsClaude(call: MessagesCall, res: ServerResponse): void | Promise<void> {
  const { model, max_tokens: maxTokens, messages, stream } = call.json;
  if (maxTokens > 64000)
    return sendError(res, 400, 'invalid_request_error', `max_tokens: ${maxTokens} > 64000, which is the maximum allowed number of output tokens for ${model}`);
  const answer = generate(lastUserText(messages), maxTokens);
  const usage = () => ({ input_tokens: promptTokens(messages), output_tokens: answer.count() });
  const stopReason = () => (answer.cut() ? 'max_tokens' : 'end_turn');
  if (!stream) {
    const text = [...answer.tokens].join('');
    return sendMessage(res, message(model, [{ type: 'text', text }], stopReason(), usage()));
  }
  const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return writeFrames(
    res,
    (function* () {
      const start = message(model, [], 'end_turn', { ...usage(), output_tokens: 1 });
      yield event('message_start', { message: { ...start, stop_reason: null } });
      yield event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      yield event('ping', {});
      for (const text of answer.tokens) yield event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
      yield event('content_block_stop', { index: 0 });
      yield event('message_delta', { delta: { stop_reason: stopReason(), stop_sequence: null }, usage: { output_tokens: answer.count() } });
      yield event('message_stop', {});
    })(),
  );
}

// ---- The backends, as rows. ----

interface Departure {
  /** Date.now() when the client aborted. */
  at: number;
  /** The stream's pace before the client left, and how long it had run. */
  msPerChunk: number;
  sinceFirstChunkMs: number;
  /** A request to the same model, as the row sends them. */
  ask: (extra: Record<string, unknown>) => ReturnType<typeof post>;
}

interface Refusal {
  what: string;
  /** The model to ask, when not the row's own. */
  model?: string;
  body: Record<string, unknown>;
  status: number;
  message: RegExp;
  /** `error.code` when it is not the upstream's to choose. */
  code?: string | null;
  /** The service does not keep this promise yet: the bug, by name. */
  knownBug?: string;
}

interface BackendRow {
  name: string;
  /** The model name clients ask for. */
  model: string;
  /** Starts what the backend needs and returns the CONFIG_FILE text that serves `model` from it. */
  start(): Promise<{ config: string; env?: Record<string, string>; stop(): Promise<void> }>;
  /** Fields every request carries (the tiny model writes until its context is full unless told otherwise). */
  everyRequest: Record<string, unknown>;
  /** Fields that let a reply end on its own, with finish_reason `stop`. */
  naturalEnd: Record<string, unknown>;
  /** The non-streamed reply does not validate against OpenAI's schema: the bug, by name. */
  replySchemaBug?: string;
  abort: {
    /** Fields that make a reply long enough to leave in the middle. */
    body: Record<string, unknown>;
    /** What shows that the backend itself stopped, or why the checks shared by every row are all there is. */
    stopped: ((left: Departure) => Promise<void>) | string;
  };
  /** Requests the backend refuses because of what the client sent, or why there are none. */
  refusals: Refusal[] | string;
  /**
   * A stream the client asked no usage for still settles the key's tokens with the backend's own usage (the
   * service reads the usage chunk and does not pass it on), or why the backend has none to give.
   */
  usageWhenUnasked: true | string;
}

/**
 * The upstream saw its connection closed, unfinished, soon after the client left: the story never ends
 * and the upstream deadline is two minutes, so nothing else closes it. (The backends' own specs pin
 * the 100 ms; a second keeps this one steady on a loaded machine.)
 */
const upstreamClosed =
  (last: () => RecordedRequest | undefined) =>
  async ({ at }: Departure) => {
    const call = last()!;
    await Promise.race([call.closed, sleep(1000)]);
    expect(call.closedAt).toBeDefined();
    expect(call.finished).toBe(false);
    expect(call.closedAt! - at).toBeLessThan(1000);
  };

const vllm = new MockUpstream();
const vllmBeforeNestedErrors = new MockUpstream();
const claude = new AnthropicMock('sk-ant-contract');

const ROWS: BackendRow[] = [
  {
    name: 'echo',
    model: 'echo',
    async start() {
      return { config: 'providers:\n  words: { type: echo }\nmodels:\n  - { name: echo, provider: words }\n', stop: async () => undefined };
    },
    everyRequest: {},
    naturalEnd: {},
    abort: {
      body: { messages: [{ role: 'user', content: 'word '.repeat(200_000) }] },
      stopped: 'echo has no upstream and no slot: its stream ending is what the in-flight gauge shows',
    },
    refusals: 'echo answers every body that passes validation: no parameter or input is refused by the backend itself',
    usageWhenUnasked: true,
  },
  {
    name: 'openai-compatible (vLLM)',
    model: 'qwen3-8b',
    async start() {
      vllm.handler = answerAsVllm('nested');
      vllmBeforeNestedErrors.handler = answerAsVllm('flat');
      await Promise.all([vllm.start(), vllmBeforeNestedErrors.start()]);
      const config = `
providers:
  vllm: { type: openai, baseURL: '${vllm.baseURL}', apiKey: '\${CONTRACT_VLLM_KEY}' }
  vllm-0-10-0: { type: openai, baseURL: '${vllmBeforeNestedErrors.baseURL}' }
models:
  - { name: qwen3-8b, provider: vllm, model: Qwen/Qwen3-8B }
  - { name: qwen3-8b-old-vllm, provider: vllm-0-10-0, model: Qwen/Qwen3-8B }
`;
      return {
        config,
        env: { CONTRACT_VLLM_KEY: 'sk-vllm-contract' },
        stop: () => Promise.all([vllm.stop(), vllmBeforeNestedErrors.stop()]).then(() => undefined),
      };
    },
    everyRequest: {},
    naturalEnd: {},
    // BUG: the reply is relayed as vLLM wrote it, with nulls OpenAI's schema does not allow
    // (message.annotations, message.function_call, system_fingerprint, usage.prompt_tokens_details).
    replySchemaBug: 'vLLM null fields relayed as written',
    usageWhenUnasked: 'the upstream is asked for usage only when the client asks or the route is trainable: the body is otherwise relayed as sent',
    abort: { body: { messages: [{ role: 'user', content: STORY }] }, stopped: upstreamClosed(() => vllm.requests.at(-1)) },
    refusals: [
      {
        what: 'an invalid max_tokens (vLLM answers 400)',
        body: { max_tokens: -1 },
        status: 400,
        message: /max_tokens must be at least 1/,
      },
      {
        what: 'an invalid max_tokens on a vLLM before 0.10.1 (flat error body)',
        model: 'qwen3-8b-old-vllm',
        body: { max_tokens: -1 },
        status: 400,
        message: /max_tokens must be at least 1/,
      },
    ],
  },
  {
    name: 'anthropic',
    usageWhenUnasked: true,
    model: 'claude',
    async start() {
      claude.reset(answerAsClaude);
      await claude.start();
      const config = `
providers:
  claude: { type: anthropic, baseURL: '${claude.baseURL}', apiKey: '\${CONTRACT_ANTHROPIC_KEY}' }
models:
  - { name: claude, provider: claude, model: claude-sonnet-4-5 }
`;
      return { config, env: { CONTRACT_ANTHROPIC_KEY: 'sk-ant-contract' }, stop: () => claude.stop() };
    },
    everyRequest: {},
    naturalEnd: {},
    abort: { body: { messages: [{ role: 'user', content: STORY }] }, stopped: upstreamClosed(() => claude.calls.at(-1)) },
    refusals: [
      {
        what: "a max_tokens over the model's limit (Anthropic answers 400)",
        body: { max_tokens: 999_999 },
        status: 400,
        message: /max_tokens: 999999 > 64000/,
        code: null,
      },
    ],
  },
  {
    name: 'llama-cpp (tiny generated GGUF)',
    usageWhenUnasked: true,
    model: 'tiny-chat',
    async start() {
      const dir = await mkdtemp(join(tmpdir(), 'contract-gguf-'));
      const modelPath = join(dir, 'tiny.gguf');
      await writeTinyGguf(modelPath, { contextLength: 8192 });
      const config = `
providers:
  tiny: { type: llama-cpp, modelPath: '${modelPath}', contextSize: 8192, threads: 1, parallel: 1 }
models:
  - { name: tiny-chat, provider: tiny }
`;
      return { config, stop: () => rm(dir, { recursive: true, force: true }) };
    },
    everyRequest: { max_tokens: 20, seed: 1 },
    // The tiny model never samples an end token; a JSON grammar is what ends its reply on its own.
    naturalEnd: { response_format: { type: 'json_object' }, max_tokens: 200, temperature: 0 },
    abort: {
      body: { max_tokens: 8000, seed: 5 },
      // With one sequence, a prompt answer to the next request means the abandoned generation freed it.
      stopped: async ({ ask, msPerChunk, sinceFirstChunkMs }) => {
        // What the abandoned generation would still take at its pace; the next request must not wait for a third of it.
        const remainingMs = 8000 * msPerChunk - sinceFirstChunkMs;
        expect(remainingMs).toBeGreaterThan(1200);
        const next = await Promise.race([ask({ max_tokens: 5 }), sleep(remainingMs / 3).then(() => 'still waiting for the sequence')]);
        expect(typeof next === 'string' ? next : next.json.usage.completion_tokens).toBe(5);
      },
    },
    refusals: [
      {
        what: "messages longer than the model's context",
        body: { messages: [{ role: 'user', content: 'hello '.repeat(9000) }] },
        status: 400,
        message: /this model's context holds 8192/,
        code: 'context_length_exceeded',
      },
    ],
  },
];

// ---- Reading what the service sends. ----

/** A stream's `data:` payloads as they arrive. */
async function* frames(res: Response): AsyncGenerator<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith('data: ')) yield frame.slice('data: '.length);
    }
  }
}

function expectUsage(usage: Record<string, number> | null | undefined): void {
  expect(usage).toEqual(
    expect.objectContaining({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) }),
  );
  expect(usage!.prompt_tokens + usage!.completion_tokens).toBe(usage!.total_tokens);
  expect(usage!.completion_tokens).toBeGreaterThan(0);
}

/** The chunks of a finished stream, checked for what every stream promises: schema, one id, model, role first, a finish_reason last, [DONE]. */
function streamedChunks(text: string, model: string): Record<string, any>[] {
  const data = sseData(text);
  expect(data.at(-1)).toBe('[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  for (const c of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(chunks.every((c) => c.model === model)).toBe(true);
  expect(chunks[0].choices[0].delta.role).toBe('assistant');
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  expect(withChoices.slice(0, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
  expect(withChoices.at(-1)!.choices[0].finish_reason).toEqual(expect.any(String));
  return chunks;
}

describe.each(ROWS)('the $name backend keeps the chat-completions contract', (row) => {
  let running: RunningApp;
  let url: string;
  let client: OpenAI;
  let stopBackend: () => Promise<void>;
  const body = (extra: Record<string, unknown> = {}) => ({ model: row.model, messages: HELLO, ...row.everyRequest, ...extra });
  const sdkBody = (extra: Record<string, unknown> = {}) => body(extra) as unknown as ChatCompletionCreateParamsNonStreaming;
  const finishReason = (chunks: Record<string, any>[]) => chunks.filter((c) => c.choices.length > 0).at(-1)!.choices[0].finish_reason;

  async function gauge(name: string): Promise<number> {
    const res = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const line = new RegExp(`^${name} (\\d+)$`, 'm').exec(await res.text());
    return Number(line?.[1]);
  }

  beforeAll(async () => {
    const backend = await row.start();
    stopBackend = backend.stop;
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: writeConfig(backend.config), METRICS_TOKEN, LOCAL_MODEL_PATH: undefined, ...backend.env });
    url = `${running.url}/v1/chat/completions`;
    client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    // The upstream first: it cuts any request a failed test left hanging, so the service can close.
    await stopBackend?.();
    await running?.close();
  });

  describe('a non-streamed reply', () => {
    it('is a chat.completion under the requested model name, with usage that adds up (openai SDK)', async () => {
      const r = await client.chat.completions.create(sdkBody());
      expect(r).toMatchObject({
        object: 'chat.completion',
        model: row.model,
        choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String) } }],
      });
      expect(r.choices).toHaveLength(1);
      expect(r.choices[0].message.content).not.toBe('');
      expectUsage(r.usage as unknown as Record<string, number>);
    });

    (row.replySchemaBug ? it.failing : it)(
      `validates against OpenAI's CreateChatCompletionResponse schema${row.replySchemaBug ? ` [known bug: ${row.replySchemaBug}]` : ''}`,
      async () => {
        const r = await post(url, body());
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(openAiSchemaErrors('CreateChatCompletionResponse', r.json)).toEqual([]);
      },
    );
  });

  describe('a streamed reply', () => {
    it('with include_usage: valid chunks, one id, role first, finish_reason, then exactly one usage chunk with no choices right before [DONE]', async () => {
      const r = await post(url, body({ stream: true, stream_options: { include_usage: true } }));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const chunks = streamedChunks(r.text, row.model);
      const withUsage = chunks.filter((c) => c.usage != null);
      expect(withUsage).toHaveLength(1);
      expect(chunks.at(-1)).toBe(withUsage[0]);
      expect(withUsage[0].choices).toEqual([]);
      expectUsage(withUsage[0].usage);
    });

    it('without include_usage: the same promises, and no usage anywhere', async () => {
      const r = await post(url, body({ stream: true }));
      expect(r.status).toBe(200);
      const chunks = streamedChunks(r.text, row.model);
      expect(chunks.filter((c) => c.usage != null)).toEqual([]);
      expect(chunks.at(-1)!.choices).toHaveLength(1);
    });

    it(`without include_usage, the key's token metrics count ${row.usageWhenUnasked === true ? "the backend's own usage" : `an estimate only (${row.usageWhenUnasked})`}`, async () => {
      const completionTokens = async () => {
        const res = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        const line = new RegExp(`^gateway_tokens_total\\{model="${row.model}",key="key-1",type="completion"\\} (\\d+)$`, 'm').exec(await res.text());
        return Number(line?.[1] ?? 0);
      };
      const asked = streamedChunks((await post(url, body({ stream: true, stream_options: { include_usage: true } }))).text, row.model);
      const expected = row.usageWhenUnasked === true ? (asked.at(-1)!.usage.completion_tokens as number) : 0;
      // Counted when the response closes.
      await sleep(100);
      const before = await completionTokens();
      await post(url, body({ stream: true }));
      let counted = 0;
      for (let i = 0; i < 20 && counted !== expected; i++) {
        await sleep(50);
        counted = (await completionTokens()) - before;
      }
      expect(counted).toBe(expected);
    });

    it('assembles in the openai SDK to the text and usage of the same request not streamed', async () => {
      const whole = await client.chat.completions.create(sdkBody());
      const stream = await client.chat.completions.create({
        ...sdkBody(),
        stream: true,
        stream_options: { include_usage: true },
      } as ChatCompletionCreateParamsStreaming);
      let text = '';
      let usage;
      for await (const c of stream) {
        expect(c.model).toBe(row.model);
        text += c.choices[0]?.delta.content ?? '';
        usage = c.usage ?? usage;
      }
      expect(text).toBe(whole.choices[0].message.content);
      expect(usage).toMatchObject({ prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: whole.usage!.completion_tokens });
    });
  });

  describe('finish reasons', () => {
    it.each(['max_tokens', 'max_completion_tokens'])('%s: 2 ends the reply with `length` after 2 tokens, streamed or not', async (field) => {
      const cut = { max_tokens: undefined, max_completion_tokens: undefined, [field]: 2 };
      const r = await post(url, body(cut));
      expect(r.status).toBe(200);
      expect(r.json.choices[0].finish_reason).toBe('length');
      expect(r.json.usage.completion_tokens).toBe(2);
      const streamed = await post(url, body({ ...cut, stream: true }));
      expect(finishReason(streamedChunks(streamed.text, row.model))).toBe('length');
    });

    it('a reply that ends on its own ends with `stop`, streamed or not', async () => {
      const r = await post(url, body(row.naturalEnd));
      expect(r.status).toBe(200);
      expect(r.json.choices[0].finish_reason).toBe('stop');
      const streamed = await post(url, body({ ...row.naturalEnd, stream: true }));
      expect(finishReason(streamedChunks(streamed.text, row.model))).toBe('stop');
    });
  });

  it('stops the backend when the client leaves mid-stream, and keeps serving', async () => {
    const controller = new AbortController();
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body({ ...row.abort.body, stream: true })),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reading = frames(res);
    let read = 0;
    let firstAt = 0;
    for await (const data of reading) {
      if (!JSON.parse(data).choices[0]?.delta.content) continue;
      if (++read === 1) firstAt = performance.now();
      if (read === 100) break;
    }
    const sinceFirstChunkMs = performance.now() - firstAt;
    // /metrics is rendered at most once a second: a render from before this stream may still be served.
    let streams = await gauge('gateway_in_flight_streams');
    for (let i = 0; i < 12 && streams !== 1; i++) {
      await sleep(100);
      streams = await gauge('gateway_in_flight_streams');
    }
    expect(streams).toBe(1);
    const at = Date.now();
    controller.abort();
    if (typeof row.abort.stopped === 'function') {
      await row.abort.stopped({ at, msPerChunk: sinceFirstChunkMs / (read - 1), sinceFirstChunkMs, ask: (extra) => post(url, body(extra)) });
    }
    // The scrape is cached for a second: wait (bounded) until the stream is no longer counted.
    for (let i = 0; i < 12 && (await gauge('gateway_in_flight_streams')) !== 0; i++) await sleep(250);
    expect(await gauge('gateway_in_flight_streams')).toBe(0);
    expect(await gauge('gateway_in_flight_requests')).toBe(0);
    const next = await post(url, body());
    expect(next.status).toBe(200);
    expect(next.json.choices[0].message.content).not.toBe('');
  });

  describe('errors', () => {
    it('answers an unknown model with 404 model_not_found, streamed or not, in a body the openai SDK reads', async () => {
      const unknown = `${row.model}-nope`;
      for (const stream of [false, true]) {
        const r = await post(url, body({ model: unknown, stream }));
        expect(r.status).toBe(404);
        expect(r.json).toEqual({
          detail: r.json.error.message,
          error: { message: expect.stringContaining(unknown), type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
        });
      }
      const err = await client.chat.completions.create(sdkBody({ model: unknown })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', error: { message: expect.stringContaining(unknown) } });
    });

    if (typeof row.refusals === 'string') {
      it.skip(`refuses a user-caused error: not applicable, ${row.refusals}`, () => undefined);
    } else {
      for (const refusal of row.refusals) {
        (refusal.knownBug ? it.failing : it)(
          `refuses ${refusal.what} with ${refusal.status}, streamed or not, in a body the openai SDK reads${refusal.knownBug ? ` [known bug: ${refusal.knownBug}]` : ''}`,
          async () => {
            const ask = (extra: Record<string, unknown>) => body({ ...refusal.body, ...(refusal.model ? { model: refusal.model } : {}), ...extra });
            for (const stream of [false, true]) {
              const r = await post(url, ask({ stream }));
              expect(r.status).toBe(refusal.status);
              expect(r.headers.get('content-type')).toMatch(/^application\/json/);
              // {error: {message, type, param, code}}, each of OpenAI's types, beside FastAPI's detail.
              expect(openAiSchemaErrors('ErrorResponse', r.json)).toEqual([]);
              expect(r.json).toMatchObject({ detail: expect.stringMatching(refusal.message), error: { message: expect.stringMatching(refusal.message) } });
              if (refusal.code !== undefined) expect(r.json.error.code).toBe(refusal.code);
            }
            const err = await client.chat.completions.create(ask({}) as unknown as ChatCompletionCreateParamsNonStreaming).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(OpenAI.APIError);
            expect(err).toMatchObject({
              status: refusal.status,
              message: expect.stringMatching(refusal.message),
              error: { message: expect.stringMatching(refusal.message) },
            });
          },
        );
      }
    }
  });
});
