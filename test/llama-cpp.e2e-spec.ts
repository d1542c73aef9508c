import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { ModelRegistry } from '../src/providers/model-registry.js';
import { authHeaders, KEY, post, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';
import { writeTinyGguf } from './support/tiny-gguf.js';

const MODEL = 'tiny-chat';
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
/** A stack frame line, printed or inside a JSON log line. */
const STACK_FRAME = /(^|\\n)\s+at \S/m;
const hello = [{ role: 'user' as const, content: 'hello the world' }];

/** The SSE frames of a response as they arrive, each with its arrival time. */
async function* frames(res: Response): AsyncGenerator<{ data: string; at: number }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith('data: ')) yield { data: frame.slice(6), at: performance.now() };
    }
  }
}

describe('llama-cpp through the HTTP service (tiny generated GGUF)', () => {
  let dir: string;
  let modelPath: string;
  let running: RunningApp;
  let url: string;
  let client: OpenAI;

  const streamRequest = (body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(url, { method: 'POST', headers: authHeaders(), body: JSON.stringify({ model: MODEL, messages: hello, stream: true, ...body }), signal });

  /** Waits (bounded) until the model's queue holds `n` requests: the one place the test looks inside, to line requests up. */
  async function queued(n: number): Promise<void> {
    const backend = running.app.get(ModelRegistry).providers().get('tiny')!.backend as unknown as { stats: { queued: number } };
    for (let i = 0; i < 400 && backend.stats.queued !== n; i++) await new Promise((r) => setTimeout(r, 5));
    expect(backend.stats.queued).toBe(n);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-cpp-e2e-'));
    modelPath = join(dir, 'tiny.gguf');
    await writeTinyGguf(modelPath, { contextLength: 8192 });
    const config = writeConfig(`
providers:
  tiny: { type: llama-cpp, modelPath: '${modelPath}', contextSize: 8192, threads: 1, parallel: 1, maxQueue: 1 }
  echo: { type: echo }
models:
  - { name: ${MODEL}, provider: tiny }
  - { name: echo, provider: echo }
`);
    running = await startApp({ CONFIG_FILE: config, API_KEYS: KEY, LOCAL_MODEL_PATH: undefined });
    url = `${running.url}/v1/chat/completions`;
    client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('completions', () => {
    const ask = (extra: Record<string, unknown>) => {
      const params = { model: MODEL, messages: hello, ...extra } as ChatCompletionCreateParamsNonStreaming;
      return client.chat.completions.create(params);
    };

    it('answers a valid chat.completion under the requested name, with real token counts', async () => {
      const r = await ask({ max_tokens: 24, temperature: 0.8, top_p: 0.9, top_k: 40, seed: 7 });
      expect(openAiSchemaErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.model).toBe(MODEL);
      expect(r.choices).toHaveLength(1);
      expect(r.choices[0].finish_reason).toBe('length');
      expect(r.usage!.completion_tokens).toBe(24);
      // Every generated token is at least one character of text.
      expect(r.choices[0].message.content!.length).toBeGreaterThanOrEqual(24);
      expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 24);
      // The prompt is counted by the model's tokenizer over its chat template: more words, more tokens.
      const longer = await ask({ max_tokens: 1, messages: [{ role: 'system', content: 'be brief' }, ...hello] });
      expect(r.usage!.prompt_tokens).toBeGreaterThan(8);
      expect(longer.usage!.prompt_tokens).toBeGreaterThan(r.usage!.prompt_tokens + 3);
    });

    it('samples with temperature, top_p, top_k and seed: the same seed repeats its text, another seed does not', async () => {
      const text = async (extra: Record<string, unknown>) => (await ask({ max_tokens: 30, ...extra })).choices[0].message.content;
      const sampled = { temperature: 1, top_p: 0.95, top_k: 40 };
      const a = await text({ ...sampled, seed: 11 });
      expect(await text({ ...sampled, seed: 11 })).toBe(a);
      expect(await text({ ...sampled, seed: 12 })).not.toBe(a);
      // top_k 1 leaves only the likeliest token, whatever the seed: the greedy (temperature 0) text.
      const greedy = await text({ temperature: 0 });
      expect(await text({ temperature: 1, top_k: 1, seed: 11 })).toBe(greedy);
      expect(await text({ temperature: 1, top_k: 1, seed: 12 })).toBe(greedy);
      expect(a).not.toBe(greedy);
    });

    it('stops at a stop string with finish_reason stop, leaving it out', async () => {
      const free = (await ask({ max_tokens: 40, temperature: 0 })).choices[0].message.content!;
      const stop = free.slice(12, 15);
      const r = await ask({ max_tokens: 40, temperature: 0, stop: [stop, 'never-appears'] });
      expect(r.choices[0].message.content).toBe(free.slice(0, free.indexOf(stop)));
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(r.usage!.completion_tokens).toBeLessThan(40);
    });

    it('follows a json_schema response_format: the reply parses and validates', async () => {
      const schema = {
        type: 'object',
        properties: { answer: { enum: ['yes', 'no'] }, count: { type: 'integer' }, name: { type: 'string', maxLength: 8 }, ok: { type: 'boolean' } },
        required: ['answer', 'count', 'name', 'ok'],
        additionalProperties: false,
      };
      const validate = new Ajv().compile(schema);
      for (const seed of [1, 2]) {
        const r = await ask({ response_format: { type: 'json_schema', json_schema: { name: 'probe', strict: true, schema } }, max_tokens: 200, seed });
        expect(r.choices[0].finish_reason).toBe('stop');
        const value: unknown = JSON.parse(r.choices[0].message.content!);
        expect(validate(value)).toBe(true);
      }
    });

    it('follows a json_object response_format: the reply is a JSON object', async () => {
      for (const seed of [1, 2]) {
        const r = await ask({ response_format: { type: 'json_object' }, max_tokens: 200, temperature: 0.5, seed });
        expect(r.choices[0].finish_reason).toBe('stop');
        const value: unknown = JSON.parse(r.choices[0].message.content!);
        expect(value).toEqual(expect.any(Object));
        expect(Array.isArray(value)).toBe(false);
      }
    });
  });

  it('streams token by token: valid chunks, role first, finish chunk, usage chunk, [DONE]', async () => {
    const res = await streamRequest({ max_tokens: 600, seed: 3, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const received: { data: string; at: number }[] = [];
    for await (const f of frames(res)) received.push(f);
    expect(received.at(-1)!.data).toBe('[DONE]');
    const chunks = received.slice(0, -1).map((f) => JSON.parse(f.data));
    for (const c of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === MODEL)).toBe(true);
    expect(chunks[0].choices[0]).toMatchObject({ delta: { role: 'assistant' }, finish_reason: null });
    const content = chunks.slice(1, -2);
    expect(content).toHaveLength(600);
    expect(
      content.every((c) => typeof c.choices[0].delta.content === 'string' && c.choices[0].delta.content !== '' && c.choices[0].finish_reason === null),
    ).toBe(true);
    expect(chunks.at(-2).choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 600, total_tokens: chunks.at(-1).usage.prompt_tokens + 600 } });
    // Tokens reach the client as they are generated, not in one piece at the end.
    const firstContentAt = received[1].at;
    expect(received.at(-1)!.at - firstContentAt).toBeGreaterThan(50);
    const half = received[300].at;
    expect(half - firstContentAt).toBeGreaterThan(20);
  });

  it('streams the same text the SDK assembles, and the same seed gives it again', async () => {
    const streamed = async () => {
      const stream = await client.chat.completions.create({ model: MODEL, messages: hello, max_tokens: 40, seed: 9, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    const text = await streamed();
    expect(text.length).toBeGreaterThanOrEqual(40);
    expect(await streamed()).toBe(text);
    const whole = await client.chat.completions.create({ model: MODEL, messages: hello, max_tokens: 40, seed: 9 });
    expect(whole.choices[0].message.content).toBe(text);
  });

  it('queues beyond `parallel` and answers 503 with Retry-After and an OpenAI error body once `maxQueue` is full', async () => {
    const first = new AbortController();
    const long = await streamRequest({ max_tokens: 8000, seed: 4 }, first.signal);
    const reading = frames(long);
    await reading.next();
    await reading.next();
    let waitingSettled = false;
    const waiting = post(url, { model: MODEL, messages: hello, max_tokens: 3 }).finally(() => (waitingSettled = true));
    await queued(1);
    const refused = await post(url, { model: MODEL, messages: hello, max_tokens: 3, stream: true });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.json).toEqual({
      detail: expect.stringContaining('busy'),
      error: { message: refused.json.detail, type: 'server_error', param: null, code: 'overloaded' },
    });
    // The queued request was neither refused nor served while the first one held the only sequence.
    expect(waitingSettled).toBe(false);
    first.abort();
    await reading.return(undefined).catch(() => undefined);
    const served = await waiting;
    expect(served.status).toBe(200);
    expect(served.json.usage.completion_tokens).toBe(3);
  });

  it('stops generating the moment the client leaves: the next request starts at once', async () => {
    const planned = 8000;
    const stream = await client.chat.completions.create({ model: MODEL, messages: hello, max_tokens: planned, seed: 5, stream: true });
    let tokens = 0;
    let firstAt = 0;
    for await (const chunk of stream) {
      if (!chunk.choices[0]?.delta.content) continue;
      if (++tokens === 1) firstAt = performance.now();
      if (tokens === 300) break;
    }
    // What the abandoned generation would still take, at the pace it had (it only slows as the context fills).
    const remainingMs = ((planned - tokens) / (tokens - 1)) * (performance.now() - firstAt);
    stream.controller.abort();
    const started = performance.now();
    const next = await client.chat.completions.create({ model: MODEL, messages: hello, max_tokens: 5 });
    const waitedMs = performance.now() - started;
    expect(next.usage!.completion_tokens).toBe(5);
    const boundMs = 400;
    expect(remainingMs).toBeGreaterThan(3 * boundMs);
    expect(waitedMs).toBeLessThan(boundMs);
  });

  it('without CONFIG_FILE, LOCAL_MODEL_PATH serves the file as `local` beside `echo`', async () => {
    const local = await startApp({ LOCAL_MODEL_PATH: modelPath, CONFIG_FILE: undefined, API_KEYS: KEY });
    try {
      const sdk = new OpenAI({ apiKey: KEY, baseURL: `${local.url}/v1`, maxRetries: 0 });
      const ids: string[] = [];
      for await (const m of sdk.models.list()) ids.push(m.id);
      expect(ids.sort()).toEqual(['echo', 'local']);
      const r = await sdk.chat.completions.create({ model: 'local', messages: hello, max_tokens: 3 });
      expect(r).toMatchObject({ model: 'local', usage: { completion_tokens: 3 } });
    } finally {
      await local.close();
    }
  });

  describe('start-up with a bad model file (the built service)', () => {
    async function start(localModelPath: string) {
      const child = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', API_KEYS: KEY, LOCAL_MODEL_PATH: localModelPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const started = performance.now();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const [code] = await once(child, 'exit');
      clearTimeout(timer);
      return { code: code as number | null, out, ms: performance.now() - started };
    }

    it('exits 1 at once, naming the missing path, without a stack dump', async () => {
      const r = await start('/nonexistent.gguf');
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(5000);
      expect(r.out).toContain('Failed to start: llama-cpp: cannot load the model at /nonexistent.gguf: the file does not exist');
      expect(r.out).not.toMatch(STACK_FRAME);
      expect(r.out).not.toMatch(/Listening on/);
    });

    it('exits 1 at once on a file that is not a model, saying why', async () => {
      const garbage = join(dir, 'garbage.gguf');
      await writeFile(garbage, 'this is not a model, only some text\n'.repeat(50));
      const r = await start(garbage);
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(5000);
      expect(r.out).toContain(`Failed to start: llama-cpp: cannot load the model at ${garbage}: it is not a GGUF file`);
      expect(r.out).not.toMatch(STACK_FRAME);
    });
  });
});
