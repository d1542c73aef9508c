import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { KEY, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { MockUpstream, type Handler } from './support/mock-upstream.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';

// The wire output of vLLM, Ollama and llama.cpp's server (see fixtures/upstream-recordings/README.md), replayed
// byte for byte by a mock upstream in front of which the service runs as an `openai` provider.
const DIR = new URL('./fixtures/upstream-recordings/', import.meta.url);
const fixture = (server: Server, file: string) => readFileSync(new URL(`${server}/${file}`, DIR));

type Server = 'vllm' | 'ollama' | 'llama-cpp';
/** Per server: the name a client asks for, the name its config sends upstream, and the content types the server writes. */
const SERVERS: Record<Server, { model: string; upstreamModel: string; sse: string; json: string }> = {
  vllm: { model: 'qwen3-8b', upstreamModel: 'Qwen/Qwen3-8B', sse: 'text/event-stream; charset=utf-8', json: 'application/json' },
  ollama: { model: 'local-qwen', upstreamModel: 'qwen3:8b', sse: 'text/event-stream', json: 'application/json' },
  'llama-cpp': { model: 'gguf-qwen', upstreamModel: 'qwen3-8b-q4_k_m', sse: 'text/event-stream', json: 'application/json; charset=utf-8' },
};

const hello = [{ role: 'user' as const, content: 'One line about caching, please.' }];
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } } } },
};
const STREAMS: { server: Server; file: string; body: Record<string, unknown> }[] = [
  { server: 'vllm', file: 'stream.sse', body: {} },
  { server: 'vllm', file: 'stream-usage.sse', body: { stream_options: { include_usage: true } } },
  { server: 'vllm', file: 'stream-tool-call.sse', body: { tools: [weatherTool], stream_options: { include_usage: true } } },
  { server: 'ollama', file: 'stream.sse', body: {} },
  { server: 'ollama', file: 'stream-usage.sse', body: { stream_options: { include_usage: true } } },
  { server: 'ollama', file: 'stream-tool-call.sse', body: { tools: [weatherTool] } },
  { server: 'llama-cpp', file: 'stream.sse', body: {} },
  { server: 'llama-cpp', file: 'stream-usage.sse', body: { stream_options: { include_usage: true } } },
  { server: 'llama-cpp', file: 'stream-tool-call.sse', body: { tools: [weatherTool] } },
];
// Kept on purpose (trainers need the server's bytes, and the official SDKs read these replies): replies are relayed
// as the server wrote them, and none of the three writes exactly what OpenAI's CreateChatCompletionResponse requires: Ollama and llama.cpp leave out `choices[].logprobs` and
// `message.refusal`; vLLM writes `annotations: null`, `function_call: null`, `system_fingerprint: null`,
// `usage.prompt_tokens_details: null`; a `logprobs` object from vLLM or llama.cpp has no `refusal`.
const SCHEMA_BUG = "kept: relayed as written, the server's reply is not exactly what OpenAI's schema requires";
const REPLIES: { server: Server; file: string; body: Record<string, unknown>; asWrittenBug?: string }[] = [
  { server: 'vllm', file: 'reply.json', body: {} },
  { server: 'vllm', file: 'reply-logprobs.json', body: { logprobs: true, top_logprobs: 2, max_tokens: 3 } },
  // Go's json.Encoder ends the body with "\n": still relayed as written (its `\u003c` escapes kept).
  { server: 'ollama', file: 'reply.json', body: {} },
  { server: 'llama-cpp', file: 'reply.json', body: {} },
  { server: 'llama-cpp', file: 'reply-logprobs.json', body: { logprobs: true, top_logprobs: 2, max_tokens: 3 } },
];
/**
 * `sdkBug`/`bodyBug`: a failure of the service a recording shows, marked it.failing while it stands (none today: an
 * upstream 4xx body keeps its fields and gains the documented `error:{message,type,param,code}`).
 */
const ERRORS: { server: Server; file: string; status: number; clientStatus: number; sdkBug?: string; bodyBug?: string }[] = [
  { server: 'vllm', file: 'error-400.json', status: 400, clientStatus: 400 },
  // An older vLLM answers a flat {object:"error",message,…}: the client still gets an `error` object.
  { server: 'vllm', file: 'error-404-legacy.json', status: 404, clientStatus: 404 },
  { server: 'ollama', file: 'error-404.json', status: 404, clientStatus: 404 },
  { server: 'ollama', file: 'error-400.json', status: 400, clientStatus: 400 },
  { server: 'llama-cpp', file: 'error-400-context.json', status: 400, clientStatus: 400 },
  // A 5xx is retried (maxRetries 0 here) and answered with the service's own 502 body.
  { server: 'llama-cpp', file: 'error-503-loading.json', status: 503, clientStatus: 502 },
];
const MID_STREAM_ERRORS: { server: Server; file: string }[] = [
  { server: 'vllm', file: 'stream-error.sse' },
  { server: 'llama-cpp', file: 'stream-error.sse' },
];

/** How the mock cuts the bytes it replays: as the servers flush (an event a write), every 5 bytes, or inside every multi-byte character. */
type Split = 'events' | 'bytes' | 'utf8';
function pieces(bytes: Buffer, split: Split): Buffer[] {
  const cuts: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    if (split === 'bytes' ? i % 5 === 0 : split === 'utf8' ? bytes[i - 1] >= 0xc0 : bytes[i - 1] === 10 && bytes[i - 2] === 10) cuts.push(i);
  }
  return [0, ...cuts].map((from, k) => bytes.subarray(from, cuts[k] ?? bytes.length));
}

/** A handler that answers with the recorded bytes, piece by piece, each piece in its own turn of the event loop. */
function replay(bytes: Buffer, status: number, contentType: string, split: Split): Handler {
  return async (_req, res: ServerResponse) => {
    const sized = contentType.startsWith('application/json') ? { 'content-length': String(bytes.length) } : {};
    res.writeHead(status, { 'content-type': contentType, ...sized });
    for (const piece of pieces(bytes, split)) {
      if (res.destroyed) return;
      res.write(piece);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  };
}

/** The `data` payloads of a recorded SSE body, parsed independently of the service's reader (no server here writes CRLF or multi-line data). */
function recordedEvents(bytes: Buffer): string[] {
  return bytes
    .toString('utf8')
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

/** The recorded text with the model name replaced where the server wrote it, and nothing else changed. */
function withModel(text: string, server: Server): string {
  const { model, upstreamModel } = SERVERS[server];
  const written = `"model":${JSON.stringify(upstreamModel)}`;
  expect(text.split(written)).toHaveLength(2);
  return text.replace(written, `"model":${JSON.stringify(model)}`);
}

const parsedWithModel = (text: string, server: Server) => ({ ...JSON.parse(text), model: SERVERS[server].model });

describe('recorded streams and replies of vLLM, Ollama and llama.cpp through the service', () => {
  const mocks = { vllm: new MockUpstream(), ollama: new MockUpstream(), 'llama-cpp': new MockUpstream() } satisfies Record<Server, MockUpstream>;
  let running: RunningApp;
  let url: string;
  let client: OpenAI;

  beforeAll(async () => {
    await Promise.all(Object.values(mocks).map((m) => m.start()));
    const provider = (name: Server) => `
  ${name}:
    type: openai
    baseURL: ${mocks[name].baseURL}
    timeoutMs: 5000
    maxRetries: 0
    cooldownAfterFailures: 1000`;
    const config = writeConfig(`
providers:${provider('vllm')}${provider('ollama')}${provider('llama-cpp')}
models:
${(Object.keys(SERVERS) as Server[]).map((s) => `  - name: ${SERVERS[s].model}\n    provider: ${s}\n    model: ${SERVERS[s].upstreamModel}`).join('\n')}
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config });
    url = `${running.url}/v1/chat/completions`;
    client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await running.close();
    await Promise.all(Object.values(mocks).map((m) => m.stop()));
  });

  /** Points the server's mock at a recording and returns what the mock was asked, for after the request. */
  function serve(server: Server, file: string, status: number, contentType: string, split: Split = 'events') {
    mocks[server].reset(replay(fixture(server, file), status, contentType, split));
    return mocks[server].requests;
  }

  it('replays every recorded file', () => {
    const covered = [...STREAMS, ...REPLIES, ...ERRORS, ...MID_STREAM_ERRORS].map((c) => `${c.server}/${c.file}`).sort();
    const files = (Object.keys(SERVERS) as Server[]).flatMap((s) => readdirSync(new URL(`${s}/`, DIR)).map((f) => `${s}/${f}`)).sort();
    expect(covered).toEqual(files);
  });

  describe.each(STREAMS)('$server $file', ({ server, file, body }) => {
    const { model, upstreamModel, sse } = SERVERS[server];
    const recorded = () => recordedEvents(fixture(server, file)).filter((e) => e !== '[DONE]');

    it.each<Split>(['events', 'bytes', 'utf8'])('relays every chunk as written but for the model, valid, then [DONE] (upstream cut: %s)', async (split) => {
      const asked = serve(server, file, 200, sse, split);
      const res = await post(url, { model, messages: hello, stream: true, ...body });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(asked[0].json).toMatchObject({ model: upstreamModel, stream: true });
      const frames = sseData(res.text);
      expect(frames.at(-1)).toBe('[DONE]');
      const chunks = frames.slice(0, -1);
      expect(chunks.map((c) => JSON.parse(c))).toEqual(recorded().map((e) => parsedWithModel(e, server)));
      expect(chunks).toEqual(recorded().map((e) => withModel(e, server)));
      for (const c of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', JSON.parse(c))).toEqual([]);
    });

    it('reaches the openai SDK chunk by chunk, every field kept', async () => {
      serve(server, file, 200, sse, 'utf8');
      const stream = await client.chat.completions.create({ model, messages: hello, stream: true, ...body } as OpenAI.ChatCompletionCreateParamsStreaming);
      const got: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) got.push(chunk);
      const expected = recorded().map((e) => parsedWithModel(e, server));
      expect(got).toEqual(expected);
      // What a user assembles: the text (an emoji whose bytes spanned two upstream tokens included) or the tool call.
      const args = got
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .map((t) => t.function?.arguments ?? '')
        .join('');
      if (file.includes('tool-call')) expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' });
      else expect(got.map((c) => c.choices[0]?.delta.content ?? '').join('')).toMatch(/^Hello! Caching keeps data close.* — café ✓ 😀$/u);
    });
  });

  describe.each(REPLIES)('$server $file', ({ server, file, body, asWrittenBug }) => {
    const { model, json } = SERVERS[server];
    const recorded = () => fixture(server, file).toString('utf8');

    it('keeps every field of the reply but the model, raw and through the openai SDK', async () => {
      const asked = serve(server, file, 200, json, 'utf8');
      const res = await post(url, { model, messages: hello, ...body });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(asked[0].json.model).toBe(SERVERS[server].upstreamModel);
      expect(res.json).toEqual(parsedWithModel(recorded(), server));
      serve(server, file, 200, json, 'bytes');
      expect(await client.chat.completions.create({ model, messages: hello, ...body })).toEqual(parsedWithModel(recorded(), server));
    });

    // asWrittenBug names the failure while it stands.
    (asWrittenBug ? it.failing : it)('is relayed as the server wrote it, only the model name changed', async () => {
      serve(server, file, 200, json);
      expect((await post(url, { model, messages: hello, ...body })).text.trimEnd()).toBe(withModel(recorded().trimEnd(), server));
    });

    // SCHEMA_BUG (above) names the failure while it stands.
    it.failing(`validates against OpenAI's CreateChatCompletionResponse (${SCHEMA_BUG})`, async () => {
      serve(server, file, 200, json);
      expect(openAiSchemaErrors('CreateChatCompletionResponse', (await post(url, { model, messages: hello, ...body })).json)).toEqual([]);
    });
  });

  describe.each(ERRORS)('$server $file', ({ server, file, status, clientStatus, sdkBug, bodyBug }) => {
    const { model, json } = SERVERS[server];
    const upstreamMessage = () => {
      const body = JSON.parse(fixture(server, file).toString('utf8'));
      return (body.error?.message ?? body.message) as string;
    };

    it(`answers ${clientStatus} with the upstream's message as the detail`, async () => {
      serve(server, file, status, json, 'utf8');
      const res = await post(url, { model, messages: hello });
      expect(res.status).toBe(clientStatus);
      expect(res.json.detail).toEqual(expect.stringContaining(upstreamMessage()));
    });

    // bodyBug / sdkBug name the failure while it stands.
    (bodyBug ? it.failing : it)(`answers the documented error body {detail, error:{message,type,param,code}}${bodyBug ? ` (${bodyBug})` : ''}`, async () => {
      serve(server, file, status, json);
      const res = await post(url, { model, messages: hello });
      expect(openAiSchemaErrors('ErrorResponse', res.json)).toEqual([]);
      expect(res.json.error.message).toEqual(expect.stringContaining(upstreamMessage()));
    });

    (sdkBug ? it.failing : it)(`reaches the openai SDK as a typed error with the upstream's message${sdkBug ? ` (${sdkBug})` : ''}`, async () => {
      serve(server, file, status, json);
      const err = await client.chat.completions.create({ model, messages: hello }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toMatchObject({ status: clientStatus, message: expect.stringContaining(upstreamMessage()) });
    });
  });

  describe.each(MID_STREAM_ERRORS)('$server $file', ({ server, file }) => {
    const { model, sse } = SERVERS[server];
    const events = () => recordedEvents(fixture(server, file));
    const failureAt = () => events().findIndex((e) => e.startsWith('{"error"'));
    const failure = () => JSON.parse(events()[failureAt()]).error.message as string;
    const textBefore = () =>
      events()
        .slice(0, failureAt())
        .map((e) => JSON.parse(e).choices[0]?.delta.content ?? '')
        .join('');

    it('relays the chunks before the failure, then ends with one error event and no [DONE]', async () => {
      serve(server, file, 200, sse, 'bytes');
      const res = await post(url, { model, messages: hello, stream: true });
      expect(res.status).toBe(200);
      const frames = sseData(res.text);
      const before = events().slice(0, failureAt());
      expect(frames.slice(0, before.length)).toEqual(before.map((e) => withModel(e, server)));
      expect(frames).toHaveLength(before.length + 1);
      const last = JSON.parse(frames.at(-1)!);
      expect(openAiSchemaErrors('ErrorResponse', last)).toEqual([]);
      expect(last.error.message).toEqual(expect.stringContaining(failure()));
    });

    it('makes the openai SDK throw with the upstream message after the chunks before it', async () => {
      serve(server, file, 200, sse);
      const stream = await client.chat.completions.create({ model, messages: hello, stream: true });
      let text = '';
      const err = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      expect(text).toBe(textBefore());
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as Error).message).toEqual(expect.stringContaining(failure()));
    });
  });
});
