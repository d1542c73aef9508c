import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import {
  type ControlledEvaluateInputItem,
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { authHeaders, KEY, post } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';
import { runRollout } from './support/rollout-client.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { writeTinyGguf } from './support/tiny-gguf.js';

/*
 * The embedded model's token path (logprobs, token ids, n) through the built service in its own process: inside
 * jest, node-llama-cpp misreads the native sampling result (an `instanceof Array` across realms), so the service
 * must not run in this process. This process loads the same model only to check what the service says against
 * the model itself, by teacher forcing (`controlledEvaluate`, which reads the native result correctly here).
 */

const MODEL = 'tiny-chat';
const hello = [{ role: 'user', content: 'hello the world' }];
/** Sampling from the model's own distribution: its logprobs are the raw ones. */
const RAW = { temperature: 1, top_k: 0, top_p: 1 };
const TRAINING = { logprobs: true, top_logprobs: 3, return_token_ids: true };

describe('llama-cpp logprobs and token ids (the built service in a child process, tiny generated GGUF)', () => {
  let dir: string;
  let service: ServiceProcess;
  let base: string;
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;
  let sequence: LlamaContextSequence;

  /** The model's text of token ids, as the service decodes them. */
  const text = (ids: number[], special = false, before: number[] = []) => model.detokenize(ids as Token[], special, before as Token[]);
  const ask = (body: Record<string, unknown>) => post(`${base}/chat/completions`, { model: MODEL, messages: hello, ...body });
  const rollout = (body: Record<string, unknown>, options: Parameters<typeof runRollout>[3] = {}) =>
    runRollout(base, KEY, { model: MODEL, messages: hello, ...body }, options);

  /** What the model gives each generated token after the prompt and the tokens before it, evaluated here in one batch. */
  async function teacherForced(prompt: number[], generated: number[]): Promise<Map<Token, number>[]> {
    await sequence.clearHistory();
    const input = [...prompt, ...generated.slice(0, -1)] as Token[];
    const next = { generateNext: { probabilities: true, options: { temperature: 0 } } };
    const out = await sequence.controlledEvaluate(input.map((t, j): ControlledEvaluateInputItem => (j >= prompt.length - 1 ? [t, next] : t)));
    return generated.map((_, i) => out[prompt.length - 1 + i]!.next.probabilities!);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-cpp-logprobs-'));
    const modelPath = join(dir, 'tiny.gguf');
    await writeTinyGguf(modelPath, { contextLength: 4096 });
    const config = writeConfig(`
providers:
  tiny: { type: llama-cpp, modelPath: '${modelPath}', contextSize: 4096, threads: 1, parallel: 1, maxQueue: 2 }
models:
  - { name: ${MODEL}, provider: tiny }
`);
    service = await spawnService({ CONFIG_FILE: config, API_KEYS: KEY });
    if (!service.url) throw new Error(`the service did not start:\n${service.out()}`);
    base = `${service.url}/v1`;
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 1024, sequences: 1, threads: 1 });
    sequence = context.getSequence();
  });

  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives every token's logprob from the model itself, the ids it generated and the prompt's, in one reply a trainer accepts", async () => {
    const t = await rollout({ ...RAW, ...TRAINING, seed: 21, max_tokens: 24 });
    const reply = t.raw as any;
    expect(openAiSchemaErrors('CreateChatCompletionResponse', reply)).toEqual([]);
    const [choice] = t.choices;
    expect(choice).toMatchObject({ finishReason: 'length', tokenIdsFrom: 'token_ids' });
    expect(choice.tokenIds).toHaveLength(24);
    expect(t.usage!.completion_tokens).toBe(24);
    // The prompt as the model evaluated it: BOS and the ChatML rendering of the messages.
    const rendered = '<|im_start|>user\nhello the world<|im_end|>\n<|im_start|>assistant\n';
    expect(t.promptTokenIds).toEqual([1, ...model.tokenize(rendered, true)]);
    expect(t.usage!.prompt_tokens).toBe(t.promptTokenIds!.length);
    expect(text(choice.tokenIds)).toBe(choice.content);
    // Each logprob is what the model gives that token after the prompt and the tokens before it.
    const forced = await teacherForced(t.promptTokenIds!, choice.tokenIds);
    const entries = reply.choices[0].logprobs.content;
    entries.forEach((entry: any, i: number) => {
      const id = choice.tokenIds[i];
      expect(entry.logprob).toBeCloseTo(Math.log(forced[i].get(id as Token)!), 3);
      expect(entry.token).toBe(text([id], true, choice.tokenIds.slice(0, i)));
      expect(Buffer.from(entry.bytes).toString('utf8')).toBe(entry.token);
      // vLLM's order: the sampled token first, then the likeliest others, each with the model's own logprob.
      expect(entry.top_logprobs).toHaveLength(3);
      expect(entry.top_logprobs[0]).toEqual({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes });
      const others = [...forced[i]].filter(([t]) => t !== id).slice(0, 2);
      expect(entry.top_logprobs.slice(1).map((e: any) => e.logprob)).toEqual(others.map(([, p]) => expect.closeTo(Math.log(p), 3)));
    });
    // Asking for logprobs does not change the answer: the ordinary path samples the same tokens from the same seed.
    const plain = await ask({ ...RAW, seed: 21, max_tokens: 24 });
    expect(plain.json.choices[0]).toMatchObject({ message: { content: choice.content }, logprobs: null });
    expect(plain.json).not.toHaveProperty('prompt_token_ids');
  });

  it('reports the distribution the token was drawn from: after top_k, only k candidates, summing to 1', async () => {
    const r = await ask({ temperature: 1, top_k: 2, top_p: 1, logprobs: true, top_logprobs: 5, max_tokens: 8, seed: 4 });
    expect(r.status).toBe(200);
    for (const entry of r.json.choices[0].logprobs.content) {
      expect(entry.top_logprobs).toHaveLength(2);
      const mass = entry.top_logprobs.reduce((sum: number, e: any) => sum + Math.exp(e.logprob), 0);
      expect(mass).toBeCloseTo(1, 4);
    }
  });

  it('streams the same tokens, logprobs and text as the reply, a token a chunk, usage last before [DONE]', async () => {
    const body = { ...RAW, ...TRAINING, seed: 22, max_tokens: 30 };
    const whole = await rollout(body);
    const streamed = await rollout({ ...body, stream_options: { include_usage: true } }, { stream: true });
    const chunks = streamed.raw as any[];
    for (const c of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
    expect(streamed.choices[0]).toMatchObject({ content: whole.choices[0].content, tokenIds: whole.choices[0].tokenIds, finishReason: 'length' });
    expect(streamed.choices[0].logprobs).toEqual(whole.choices[0].logprobs);
    expect(streamed.promptTokenIds).toEqual(whole.promptTokenIds);
    expect(chunks.filter((c) => c.choices[0]?.token_ids)).toHaveLength(30);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 30, prompt_tokens: whole.promptTokenIds!.length } });
  });

  it('writes tokens as token_id:<id> when asked, so a trainer reads the ids from the logprobs alone', async () => {
    const t = await rollout({ ...RAW, logprobs: true, return_tokens_as_token_ids: true, seed: 23, max_tokens: 12 }, { requirePromptTokenIds: false });
    const [choice] = t.choices;
    expect(choice.tokenIdsFrom).toBe('token_id:');
    expect(text(choice.tokenIds)).toBe(choice.content);
    // `bytes` stay those of the token's text.
    const bytes = (t.raw as any).choices[0].logprobs.content.flatMap((e: any) => e.bytes);
    expect(Buffer.from(bytes).toString('utf8')).toBe(choice.content);
  });

  it('stops at a stop string with finish_reason stop: the text ends before it, the tokens that wrote it are counted', async () => {
    const free = (await rollout({ temperature: 0, ...TRAINING, max_tokens: 40 })).choices[0];
    const stop = free.content.slice(12, 15);
    const t = await rollout({ temperature: 0, ...TRAINING, max_tokens: 40, stop: [stop] });
    const [choice] = t.choices;
    expect(choice).toMatchObject({ finishReason: 'stop', content: free.content.slice(0, free.content.indexOf(stop)) });
    expect(text(choice.tokenIds).startsWith(choice.content + stop)).toBe(true);
    expect(choice.tokenIds).toEqual(free.tokenIds.slice(0, choice.tokenIds.length));
    expect(t.usage!.completion_tokens).toBe(choice.tokenIds.length);
  });

  it('follows a json_schema with logprobs: valid JSON; the white space the grammar stops on is in the ids and usage, not in the text', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { enum: ['yes', 'no'] }, count: { type: 'integer' }, name: { type: 'string', maxLength: 6 } },
      required: ['answer', 'count', 'name'],
      additionalProperties: false,
    };
    const validate = new Ajv().compile(schema);
    for (const stream of [false, true]) {
      const body = {
        ...TRAINING,
        temperature: 0.5,
        seed: 5,
        max_tokens: 300,
        response_format: { type: 'json_schema', json_schema: { name: 'probe', schema } },
      };
      const t = await rollout(stream ? { ...body, stream_options: { include_usage: true } } : body, { stream });
      const [choice] = t.choices;
      expect(choice.finishReason).toBe('stop');
      expect(validate(JSON.parse(choice.content))).toBe(true);
      // node-llama-cpp's JSON grammars stop at four newlines (this model never picks its end-of-sequence token).
      const written = text(choice.tokenIds);
      expect(written.startsWith(choice.content)).toBe(true);
      expect(written.slice(choice.content.length)).toMatch(/^\s*\n\n\n\n$/);
      expect(t.usage!.completion_tokens).toBe(choice.tokenIds.length);
      expect(choice.logprobs.every((l) => l <= 0)).toBe(true);
    }
  });

  it('gives n choices, each with its own tokens, usage their sum; a seeded choice 0 is the n = 1 answer', async () => {
    const body = { ...RAW, ...TRAINING, seed: 31, max_tokens: 10 };
    const two = await rollout({ ...body, n: 2 });
    expect(two.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(two.usage!.completion_tokens).toBe(20);
    expect(two.choices[1].content).not.toBe(two.choices[0].content);
    expect(two.choices[0].tokenIds).toEqual((await rollout(body)).choices[0].tokenIds);
    // Streamed: every choice's role chunk first, then each choice's tokens under its index.
    const streamed = await rollout({ ...body, n: 2 }, { stream: true, matchChoicesBy: 'index' });
    expect(streamed.choices.map((c) => c.tokenIds)).toEqual(two.choices.map((c) => c.tokenIds));
    // Without a seed the choices still differ (node-llama-cpp alone would seed both with the same second).
    const unseeded = await rollout({ ...RAW, ...TRAINING, n: 2, max_tokens: 10 });
    expect(unseeded.choices[0].tokenIds).not.toEqual(unseeded.choices[1].tokenIds);
  });

  it('refuses, streamed or not, with a 400 naming the field, what it cannot honour', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ logprobs: true, tools }, 'tools', /'logprobs' with 'tools'/],
      [{ return_token_ids: true, tools }, 'tools', /'return_token_ids' with 'tools'/],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs', /from 0 to 20/],
      [{ top_logprobs: 2 }, 'top_logprobs', /needs 'logprobs': true/],
      [{ logprobs: 'yes' }, 'logprobs', /must be a boolean/],
      [{ n: 0 }, 'n', /from 1 to 128/],
    ];
    for (const [extra, param, message] of cases) {
      for (const stream of [false, true]) {
        const r = await ask({ ...extra, stream, max_tokens: 3 });
        expect({ extra, stream, status: r.status, type: r.headers.get('content-type') }).toEqual({
          extra,
          stream,
          status: 400,
          type: expect.stringMatching(/^application\/json/),
        });
        expect(r.json.error).toEqual({ message: expect.stringMatching(message), type: 'invalid_request_error', param, code: 'invalid_request' });
      }
    }
    // The trainer's view: a refusal, never a reply without logprobs.
    await expect(rollout({ logprobs: true, tools })).rejects.toMatchObject({ check: 'http-status' });
  });

  it('frees the sequence the moment a client leaves a logprobs stream: the next request starts at once', async () => {
    const planned = 3000;
    const controller = new AbortController();
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: authHeaders(),
      body: JSON.stringify({ model: MODEL, messages: hello, ...RAW, ...TRAINING, top_logprobs: 0, max_tokens: planned, seed: 6, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let tokens = 0;
    let firstAt = 0;
    let buffer = '';
    while (tokens < 200) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended after ${tokens} chunks with token ids`);
      buffer += value;
      const count = buffer.split('"token_ids":[').length - 1;
      if (count && !firstAt) firstAt = performance.now();
      tokens = count;
    }
    // What the abandoned generation would still take, at the pace it had.
    const remainingMs = ((planned - tokens) / (tokens - 1)) * (performance.now() - firstAt);
    controller.abort();
    const started = performance.now();
    const next = await ask({ max_tokens: 3 });
    const waitedMs = performance.now() - started;
    expect(next.json.usage.completion_tokens).toBe(3);
    const boundMs = 500;
    expect(remainingMs).toBeGreaterThan(3 * boundMs);
    expect(waitedMs).toBeLessThan(boundMs);
  });
});
