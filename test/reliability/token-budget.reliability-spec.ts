import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { authHeaders, post, startApp, type RunningApp } from '../support/app.js';
import { writeConfig } from '../support/config-file.js';
import { chunk, MockUpstream, reply, sleep, streamFrames, type RecordedRequest } from '../support/mock-upstream.js';
import { recordSummary } from './support/summary.js';
import { testRedisUrl } from '../support/redis.js';

const TPM = 2000;
const CONCURRENCY = 100;
/** What the mock model writes when the client sets no max_tokens. */
const LONG_ANSWER_TOKENS = 500;

/** The mock's own count of a prompt: its message texts at four bytes a token, plus framing. */
function promptTokens(messages: { content?: unknown }[]): number {
  const bytes = messages.reduce((n, m) => n + Buffer.byteLength(typeof m.content === 'string' ? m.content : ''), 0);
  return Math.ceil(bytes / 4) + 3 * messages.length;
}

/** What a request really costs: the prompt and the output the mock model writes for it. */
function truth(body: { messages: { content?: unknown }[]; max_tokens?: number }): { prompt: number; completion: number } {
  return { prompt: promptTokens(body.messages), completion: Math.min(body.max_tokens ?? LONG_ANSWER_TOKENS, LONG_ANSWER_TOKENS) };
}

/**
 * A model that writes as much as it may (500 tokens without max_tokens) after 50 ms: a reply
 * reports usage; a stream sends reasoning and tool-call arguments, no content and no usage chunk.
 */
async function longModel(req: RecordedRequest, res: ServerResponse): Promise<void> {
  await sleep(50);
  const model = req.json.model;
  const { prompt, completion } = truth(req.json);
  if (!req.json.stream) {
    const message = { role: 'assistant', content: 'w'.repeat(completion * 4), refusal: null };
    return reply(res, 200, {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model,
      choices: [{ index: 0, message, finish_reason: 'length', logprobs: null }],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    });
  }
  const pieces = completion / 10;
  await streamFrames(res, [
    chunk(model, { role: 'assistant', content: null }),
    ...Array.from({ length: pieces / 2 }, () => chunk(model, { reasoning_content: 'r'.repeat(40) })),
    chunk(model, { tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }] }),
    ...Array.from({ length: pieces / 2 }, () => chunk(model, { tool_calls: [{ index: 0, function: { arguments: 'a'.repeat(40) } }] })),
    chunk(model, {}, 'tool_calls'),
  ]);
}

const ask = 'Say something long.';
const SCENARIOS = {
  'replies with usage, no max_tokens': { model: 'long', messages: [{ role: 'user', content: ask }] },
  'replies with usage, max_tokens 100': { model: 'long', max_tokens: 100, messages: [{ role: 'user', content: ask }] },
  'streams without a usage chunk (reasoning and tool-call arguments)': { model: 'long', stream: true, messages: [{ role: 'user', content: ask }] },
};

function keyFile(keys: string[], run: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rl-budget-')), 'keys.yaml');
  writeFileSync(file, stringify(keys.map((key) => ({ name: `${key}-${run}`, sha256: createHash('sha256').update(key).digest('hex'), tpm: TPM }))));
  return file;
}

/** 100 requests at once, spread over the apps; what the admitted ones really cost, summed. */
async function burst(apps: RunningApp[], key: string, body: (typeof SCENARIOS)[keyof typeof SCENARIOS]) {
  const replies = await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, i) => post(`${apps[i % apps.length].url}/v1/chat/completions`, body, authHeaders(key))),
  );
  const admitted = replies.filter((r) => r.status === 200);
  expect(replies.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
  const { prompt, completion } = truth(body);
  // A relayed reply reports the mock's usage; a stream has none, so its cost is what the mock wrote.
  const used = admitted.reduce((n, r) => n + (r.json?.usage?.total_tokens ?? prompt + completion), 0);
  return { admitted: admitted.length, refused: replies.length - admitted.length, used };
}

const upstream = new MockUpstream();
const config = () =>
  writeConfig(`
providers:
  up:
    type: openai
    baseURL: ${upstream.baseURL}
    maxRetries: 0
models:
  - name: long
    provider: up
`);

beforeAll(async () => {
  upstream.handler = longModel;
  await upstream.start();
});
afterAll(() => upstream.stop());

const REDIS_URL = await testRedisUrl();
if (!REDIS_URL) console.warn('No Redis (REDIS_URL unset, nothing at 127.0.0.1:6379): the Redis token-budget test is skipped');
const STORES: [string, string | undefined, number][] = [
  ['memory', undefined, 1],
  ...(REDIS_URL ? [['redis, two instances', REDIS_URL, 2] as [string, string, number]] : []),
];

describe.each(STORES)('tpm %s: 100 concurrent requests on a key with tpm 2000', (store, redisUrl, instances) => {
  const run = randomUUID().slice(0, 8);
  const keys = Object.keys(SCENARIOS).map((_, i) => `sk-budget-${i}`);
  const apps: RunningApp[] = [];
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    const env = { API_KEYS: undefined, REDIS_URL: redisUrl, RATE_LIMIT_WINDOW_SECONDS: '60', CONFIG_FILE: config(), API_KEYS_FILE: keyFile(keys, run) };
    for (let i = 0; i < instances; i++) apps.push(await startApp(env));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    recordSummary(`token budget (${store})`, figures);
  });

  it.each(Object.entries(SCENARIOS).map(([name, body], i) => [name, body, keys[i]] as const))(
    '%s: what the admitted requests use stays within tpm',
    async (name, body, key) => {
      const result = await burst(apps, key, body);
      figures[name] = { ...result, tpm: TPM, overshoot: Math.max(0, result.used - TPM) };
      expect(result.admitted).toBeGreaterThan(0);
      expect(result.used).toBeLessThanOrEqual(TPM);
    },
  );
});
