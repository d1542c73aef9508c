import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { Ajv } from 'ajv';
import { writeTinyGguf } from '../../../test/support/tiny-gguf.js';
import { OverloadedError } from '../../common/errors/api-error.js';
import type { BackendRequest, ChatCompletionChunk, ChunkFrame } from '../model-backend.js';
import { LlamaCppBackend, LlamaCppLoadError } from './llama-cpp.backend.js';

const request = (body: Record<string, unknown>): BackendRequest => ({
  body: { json: { model: 'tiny', messages: [{ role: 'user', content: 'hello the world' }], ...body } },
  requestedModel: 'tiny-requested',
  model: 'tiny',
});
const never = new AbortController().signal;

async function collect(it: AsyncIterable<ChunkFrame>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const { chunk } of it) out.push(chunk);
  return out;
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => (c.choices[0]?.delta.content as string | undefined) ?? '').join('');

describe('LlamaCppBackend (tiny random GGUF)', () => {
  let dir: string;
  let modelPath: string;
  let backend: LlamaCppBackend;
  const warnings: string[] = [];

  beforeAll(async () => {
    Logger.overrideLogger({ log() {}, error() {}, warn: (m: unknown) => void warnings.push(String(m)) });
    dir = await mkdtemp(join(tmpdir(), 'llama-cpp-spec-'));
    modelPath = join(dir, 'tiny.gguf');
    await writeTinyGguf(modelPath, { contextLength: 8192 });
    backend = await LlamaCppBackend.load({ modelPath, threads: 1, gpu: false, contextSize: 4096, parallel: 1, maxQueue: 1 });
  });

  afterAll(async () => {
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
    Logger.overrideLogger(new ConsoleLogger());
  });

  describe('loading', () => {
    it('rejects a missing file with a message naming the path', async () => {
      const missing = join(dir, 'nope.gguf');
      const error = await LlamaCppBackend.load({ modelPath: missing, threads: 1, gpu: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LlamaCppLoadError);
      expect((error as Error).message).toBe(`llama-cpp: cannot load the model at ${missing}: the file does not exist`);
    });

    it('rejects garbage, a corrupt header and a truncated file with the reason, without hanging', async () => {
      const garbage = join(dir, 'garbage.gguf');
      await writeFile(garbage, Buffer.from('not a model at all, just some text'.repeat(40)));
      await expect(LlamaCppBackend.load({ modelPath: garbage, threads: 1, gpu: false })).rejects.toThrow(
        `llama-cpp: cannot load the model at ${garbage}: it is not a GGUF file (no GGUF magic)`,
      );
      // A valid magic and version followed by junk makes node-llama-cpp's parser allocate without end.
      const corrupt = join(dir, 'corrupt.gguf');
      await writeFile(corrupt, Buffer.concat([Buffer.from('GGUF\x03\x00\x00\x00', 'latin1'), Buffer.from('garbage!'.repeat(8))]));
      await expect(LlamaCppBackend.load({ modelPath: corrupt, threads: 1, gpu: false })).rejects.toThrow(
        /corrupt\.gguf: the GGUF header is corrupt or the file is truncated$/,
      );
      const truncated = join(dir, 'truncated.gguf');
      await writeFile(truncated, (await readFile(modelPath)).subarray(0, 300_000));
      await expect(LlamaCppBackend.load({ modelPath: truncated, threads: 1, gpu: false })).rejects.toThrow(
        /truncated\.gguf: the file is truncated: tensor '[\w.]+' ends past its 300000 bytes$/,
      );
    }, 10_000);

    it('passes on llama.cpp’s own reason when it refuses a well-formed file', async () => {
      const alien = join(dir, 'alien.gguf');
      await writeTinyGguf(alien, { architecture: 'nonesuch' });
      // llama.cpp says why only in its log; node-llama-cpp routes that log to JS only for the first runtime of a process.
      await expect(LlamaCppBackend.load({ modelPath: alien, threads: 1, gpu: false })).rejects.toThrow(
        /alien\.gguf: llama\.cpp rejected the file \((.*unknown model architecture: 'nonesuch'|Failed to load model)\)$/,
      );
    });

    it('is ready once loaded', async () => {
      await expect(backend.check(never)).resolves.toBeUndefined();
    });
  });

  it('answers a chat.completion through the model’s chat template with real token counts', async () => {
    const { completion: r } = await backend.complete(request({ max_tokens: 24, seed: 1 }), never);
    expect(r).toMatchObject({ object: 'chat.completion', model: 'tiny-requested', choices: [{ index: 0, logprobs: null }] });
    expect(r.id).toMatch(/^chatcmpl-/);
    const { message, finish_reason } = r.choices[0];
    expect(message).toEqual({ role: 'assistant', content: expect.any(String), refusal: null });
    expect(finish_reason).toBe('length');
    // Prompt tokens: BOS plus the ChatML rendering of the messages, tokenized by the model itself.
    const rendered = '<|im_start|>user\nhello the world<|im_end|>\n<|im_start|>assistant\n';
    expect(r.usage).toEqual({ prompt_tokens: 1 + backend.tokenize(rendered, true).length, completion_tokens: 24, total_tokens: r.usage!.prompt_tokens + 24 });
    // Every token is at least one character, and re-tokenizing the text cannot need more tokens than were generated.
    const content = message.content!;
    expect(content.length).toBeGreaterThanOrEqual(24);
    expect(backend.tokenize(content).length).toBeLessThanOrEqual(24);
  });

  it('streams chunks token by token under one id: role first, content, finish reason, then usage (the service passes it on when asked)', async () => {
    const body = { max_tokens: 20, seed: 2, temperature: 0.8 };
    const chunks = await collect(backend.stream(request({ ...body, stream_options: { include_usage: true } }), never));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'tiny-requested')).toBe(true);
    expect(chunks[0].choices[0]).toMatchObject({ delta: { role: 'assistant', content: '' }, finish_reason: null });
    const content = chunks.slice(1, -2);
    expect(content).toHaveLength(20);
    expect(content.every((c) => typeof c.choices[0].delta.content === 'string' && c.choices[0].finish_reason === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 20, total_tokens: chunks.at(-1)!.usage!.prompt_tokens + 20 } });
    // The same seed through complete() gives the same text the stream carried.
    const { completion: full } = await backend.complete(request(body), never);
    expect(contentOf(chunks)).toBe(full.choices[0].message.content);
    const plain = await collect(backend.stream(request(body), never));
    // The backend always reports its usage last; whether the client sees it is the service's decision.
    expect(plain.at(-2)!.choices[0].finish_reason).toBe('length');
    expect(plain.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 20 } });
  });

  it('ends with finish_reason length at exactly max_completion_tokens, which wins over max_tokens', async () => {
    const { completion: r } = await backend.complete(request({ max_tokens: 40, max_completion_tokens: 7, seed: 3 }), never);
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(7);
  });

  it('stops at a stop string with finish_reason stop, leaving the stop text out', async () => {
    const body = { max_tokens: 40, temperature: 0 };
    const free = (await backend.complete(request(body), never)).completion.choices[0].message.content!;
    const stop = free.slice(12, 15);
    const at = free.indexOf(stop);
    const { completion: r } = await backend.complete(request({ ...body, stop: [stop, 'never-appears'] }), never);
    expect(r.choices[0].message.content).toBe(free.slice(0, at));
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage!.completion_tokens).toBeLessThan(40);
  });

  it('gives the same text for the same seed and temperature, and another for another seed', async () => {
    const text = async (seed: number) =>
      (await backend.complete(request({ max_tokens: 30, temperature: 0.9, seed }), never)).completion.choices[0].message.content;
    const a = await text(11);
    expect(await text(11)).toBe(a);
    expect(await text(12)).not.toBe(a);
  });

  it('enforces a json_schema response_format with a grammar: the output parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: {
        answer: { enum: ['yes', 'no'] },
        ok: { type: 'boolean' },
        count: { type: 'integer' },
        name: { type: 'string', maxLength: 8 },
        tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 2 },
      },
      required: ['answer', 'ok', 'count', 'name', 'tags'],
      additionalProperties: false,
    };
    const validate = new Ajv().compile(schema);
    const format = { type: 'json_schema', json_schema: { name: 'probe', strict: true, schema } };
    for (const seed of [1, 2, 3]) {
      const { completion: r } = await backend.complete(request({ response_format: format, max_tokens: 300, seed }), never);
      const value: unknown = JSON.parse(r.choices[0].message.content!);
      expect(validate(value)).toBe(true);
      expect(r.choices[0].finish_reason).toBe('stop');
    }
    const streamed = await collect(backend.stream(request({ response_format: format, max_tokens: 300, seed: 4 }), never));
    expect(validate(JSON.parse(contentOf(streamed)))).toBe(true);
  });

  it('enforces json_object with the generic JSON grammar', async () => {
    for (const seed of [1, 2]) {
      // Free JSON has unbounded strings; at this temperature the random model closes its object at once.
      const { completion: r } = await backend.complete(request({ response_format: { type: 'json_object' }, max_tokens: 200, temperature: 0.5, seed }), never);
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(JSON.parse(r.choices[0].message.content!)).toBeInstanceOf(Object);
    }
  });

  it('stops generating at once when the client aborts mid-stream, and the next request is served', async () => {
    const controller = new AbortController();
    const it = backend.stream(request({ seed: 5 }), controller.signal)[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) await it.next();
    const started = performance.now();
    controller.abort(new Error('client left'));
    await expect(it.next()).rejects.toThrow('client left');
    expect(performance.now() - started).toBeLessThan(200);
    const { completion: next } = await backend.complete(request({ max_tokens: 5, seed: 5 }), never);
    expect(next.usage!.completion_tokens).toBe(5);
  });

  it('frees the sequence when the consumer stops reading early', async () => {
    const chunks: ChatCompletionChunk[] = [];
    let leftAt = 0;
    for await (const { chunk } of backend.stream(request({ seed: 6 }), never)) {
      if (chunks.push(chunk) < 3) continue;
      leftAt = performance.now();
      break;
    }
    // Leaving the loop returns once generation has stopped, not after the ~4000 tokens it could still produce.
    expect(performance.now() - leftAt).toBeLessThan(200);
    const { completion: next } = await backend.complete(request({ max_tokens: 5 }), never);
    expect(next.choices[0].finish_reason).toBe('length');
  });

  it('queues beyond `parallel`, refuses beyond `maxQueue` with a 503, and drops a waiter that aborts', async () => {
    const running = new AbortController();
    const first = backend.stream(request({ seed: 7 }), running.signal)[Symbol.asyncIterator]();
    await first.next();
    await first.next();
    const leaving = new AbortController();
    const left = backend.complete(request({ max_tokens: 3 }), leaving.signal);
    await waitFor(() => backend.stats.queued === 1);
    const refused = await backend.complete(request({ max_tokens: 3 }), never).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OverloadedError);
    expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
    leaving.abort(new Error('gave up'));
    await expect(left).rejects.toThrow('gave up');
    expect(backend.stats.queued).toBe(0);
    const queued = backend.complete(request({ max_tokens: 3 }), never);
    await waitFor(() => backend.stats.queued === 1);
    running.abort(new Error('client left'));
    await expect(first.next()).rejects.toThrow('client left');
    await expect(queued).resolves.toMatchObject({ completion: { usage: { completion_tokens: 3 } } });
  });

  it('serves `parallel` requests at once, each on its own sequence', async () => {
    const wide = await LlamaCppBackend.load({ modelPath, threads: 1, gpu: false, contextSize: 512, parallel: 2, maxQueue: 0 });
    try {
      const a = wide.stream(request({ seed: 8 }), never)[Symbol.asyncIterator]();
      const b = wide.stream(request({ seed: 9 }), never)[Symbol.asyncIterator]();
      await Promise.all([a.next(), b.next()]);
      expect(wide.stats).toEqual({ queued: 0, idle: 0 });
      // Both advance together, and a third finds no room (maxQueue 0).
      const [ca, cb] = await Promise.all([a.next(), b.next()]);
      expect([ca.value?.chunk.choices[0].delta.content, cb.value?.chunk.choices[0].delta.content]).toEqual([expect.any(String), expect.any(String)]);
      await expect(wide.complete(request({ max_tokens: 2 }), never)).rejects.toBeInstanceOf(OverloadedError);
      await Promise.all([a.return?.(), b.return?.()]);
      expect(wide.stats).toEqual({ queued: 0, idle: 2 });
    } finally {
      await wide.close();
    }
  });

  it('logs and ignores settings it cannot honour', async () => {
    warnings.length = 0;
    const { completion: r } = await backend.complete(
      request({ max_tokens: 3, tools: [{ type: 'function', function: { name: 'f' } }], logit_bias: { 5: 10 } }),
      never,
    );
    expect(r.choices).toHaveLength(1);
    expect(warnings.join('\n')).toMatch(/Ignoring settings llama-cpp cannot honour: tools, logit_bias/);
  });

  // The token path itself (logprobs, token ids, n) runs in test/llama-cpp-logprobs.e2e-spec.ts: under jest's VM
  // realm node-llama-cpp misreads the native sampling result, and the sampler refuses it rather than answer garbage.
  it('refuses logprobs and token ids it cannot honour with a 400 naming the field, before taking a sequence', async () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    for (const [body, param] of [
      [{ logprobs: true, tools }, 'tools'],
      [{ return_token_ids: true, functions: [{ name: 'f' }] }, 'functions'],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
      [{ n: 1.5 }, 'n'],
    ] as const) {
      for (const run of [() => backend.complete(request(body), never), () => collect(backend.stream(request(body), never))]) {
        await expect(run()).rejects.toMatchObject({ status: 400, code: 'invalid_request', param });
        expect(backend.stats).toEqual({ queued: 0, idle: 1 });
      }
    }
  });

  it('draws a fresh seed for a request without one (node-llama-cpp alone would reuse the current second)', async () => {
    const text = async () => (await backend.complete(request({ max_tokens: 12, temperature: 1 }), never)).completion.choices[0].message.content;
    const texts = new Set([await text(), await text(), await text()]);
    expect(texts.size).toBe(3);
  });

  it('answers 400 when the messages alone overflow the context', async () => {
    const long = 'x'.repeat(5000);
    await expect(backend.complete(request({ messages: [{ role: 'user', content: long }] }), never)).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
  });

  it('falls back to a generic chat wrapper when the file has no template', async () => {
    const plainPath = join(dir, 'plain.gguf');
    await writeTinyGguf(plainPath, { chatTemplate: null });
    const plain = await LlamaCppBackend.load({ modelPath: plainPath, threads: 1, gpu: false, contextSize: 512 });
    try {
      expect(plain.template).not.toBe('ChatML');
      const { completion: r } = await plain.complete(
        request({
          max_tokens: 4,
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'hi' },
          ],
        }),
        never,
      );
      expect(r.usage!.completion_tokens).toBe(4);
    } finally {
      await plain.close();
    }
    await expect(plain.check(never)).rejects.toThrow(/not loaded/);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}
