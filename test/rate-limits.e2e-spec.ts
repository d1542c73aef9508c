import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createServer } from 'node:net';
import { authHeaders, post, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { chunk, MockUpstream, reply, sleep, streamFrames, type RecordedRequest } from './support/mock-upstream.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { testRedisUrl } from './support/redis.js';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const hello = { model: 'echo', messages: [{ role: 'user', content: 'one two three four five six seven eight' }] };

/** A key file with fresh names, so counters left in Redis by earlier runs never meet these. */
function keyFile(entries: { key: string; rpm?: number; tpm?: number }[]): string {
  const run = randomUUID().slice(0, 8);
  const file = join(mkdtempSync(join(tmpdir(), 'rl-')), 'keys.yaml');
  writeFileSync(file, stringify(entries.map((e) => ({ name: `${e.key}-${run}`, sha256: sha(e.key), rpm: e.rpm, tpm: e.tpm }))));
  return file;
}

describe('rate limits in memory', () => {
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    running = await startApp({
      API_KEYS: undefined,
      REDIS_URL: undefined,
      RATE_LIMIT_WINDOW_SECONDS: '2',
      API_KEYS_FILE: keyFile([{ key: 'sk-rpm', rpm: 3 }, { key: 'sk-tpm', tpm: 100 }, { key: 'sk-free' }]),
    });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  it("counts requests per window: replies carry OpenAI's headers, the one over gets 429 with Retry-After", async () => {
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await post(url, hello, authHeaders('sk-rpm')));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies[0].headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(replies.map((r) => r.headers.get('x-ratelimit-remaining-requests'))).toEqual(['2', '1', '0', '0']);
    expect(replies[0].headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(ms|s)$/);
    expect(Number(replies[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(replies[3].json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  });

  it('resets when the window passes', async () => {
    await sleep(2100);
    expect((await post(url, hello, authHeaders('sk-rpm'))).status).toBe(200);
  });

  it('counts tokens from real usage: a key over its tpm is refused until the window passes', async () => {
    const statuses = [];
    // each reply uses 16 tokens (8 prompt + 8 completion) of 100; while it runs it holds its prompt's estimate + max_tokens
    for (let i = 0; i < 7; i++) statuses.push((await post(url, { ...hello, max_tokens: 8 }, authHeaders('sk-tpm'))).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    const r = await post(url, hello, authHeaders('sk-tpm'));
    expect(r.headers.get('x-ratelimit-limit-tokens')).toBe('100');
  });

  it('leaves keys without limits alone', async () => {
    const r = await post(url, hello, authHeaders('sk-free'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });
});

const probe = { model: 'echo', max_tokens: 1, messages: [{ role: 'user', content: 'probe' }] };

/** x-ratelimit-remaining-tokens after a small probe: two keys' difference is what the first was charged. */
async function remainingAfterProbe(base: string, key: string): Promise<number> {
  const r = await post(`${base}/v1/chat/completions`, probe, authHeaders(key));
  expect(r.status).toBe(200);
  return Number(r.headers.get('x-ratelimit-remaining-tokens'));
}

/** About 3,000 tokens of reasoning and tool-call arguments, no `content` and no usage: streamed or in one reply. */
function toolTalker(req: RecordedRequest, res: import('node:http').ServerResponse): Promise<void> | void {
  const model = req.json.model;
  if (model === 'broken') return reply(res, 500, { error: { message: 'down', type: 'server_error' } });
  if (req.json.stream) {
    return streamFrames(res, [
      chunk(model, { role: 'assistant', content: null }),
      ...Array.from({ length: 16 }, () => chunk(model, { reasoning_content: 'r'.repeat(250) })),
      chunk(model, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
      ...Array.from({ length: 16 }, () => chunk(model, { tool_calls: [{ index: 0, function: { arguments: 'a'.repeat(500) } }] })),
      chunk(model, {}, 'tool_calls'),
    ]);
  }
  const message = {
    role: 'assistant',
    content: null,
    reasoning_content: 'r'.repeat(4000),
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: 'a'.repeat(8000) } }],
  };
  reply(res, 200, {
    id: 'x',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message, finish_reason: 'tool_calls', logprobs: null }],
  });
}

const budgetConfig = (upstream: MockUpstream) =>
  writeConfig(`
providers:
  up:
    type: openai
    baseURL: ${upstream.baseURL}
    maxRetries: 0
  echo:
    type: echo
models:
  - name: echo
    provider: echo
  - name: tools
    provider: up
  - name: broken
    provider: up
`);

const askTools = (stream: boolean) => ({ model: 'tools', stream, messages: [{ role: 'user', content: 'look it up' }] });

describe('token budget in memory', () => {
  const upstream = new MockUpstream();
  let running: RunningApp;
  let url: string;
  const keys = ['sk-base', 'sk-stream', 'sk-reply', 'sk-small', 'sk-failing'];

  beforeAll(async () => {
    upstream.handler = toolTalker;
    await upstream.start();
    const file = keyFile(keys.map((key) => ({ key, tpm: key === 'sk-small' || key === 'sk-failing' ? 2000 : 100_000 })));
    running = await startApp({
      API_KEYS: undefined,
      REDIS_URL: undefined,
      RATE_LIMIT_WINDOW_SECONDS: '60',
      CONFIG_FILE: budgetConfig(upstream),
      API_KEYS_FILE: file,
    });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await running.close();
    await upstream.stop();
  });

  it('charges a stream without a usage chunk for the reasoning and tool-call arguments it produced', async () => {
    const r = await post(url, askTools(true), authHeaders('sk-stream'));
    expect(r.status).toBe(200);
    expect(r.text).toContain('"arguments":"aaaa');
    const charged = (await remainingAfterProbe(running.url, 'sk-base')) - (await remainingAfterProbe(running.url, 'sk-stream'));
    expect(charged).toBeGreaterThanOrEqual(3000);
    expect(charged).toBeLessThan(3100);
  });

  it('charges a reply without usage for its reasoning and tool-call arguments', async () => {
    const r = await post(url, askTools(false), authHeaders('sk-reply'));
    expect(r.status).toBe(200);
    const charged = (await remainingAfterProbe(running.url, 'sk-base')) - (await remainingAfterProbe(running.url, 'sk-reply'));
    expect(charged).toBeGreaterThanOrEqual(3000);
    expect(charged).toBeLessThan(3100);
  });

  it('charges tool definitions, response_format schemas and tool-call arguments: alone over tpm, the request is too large', async () => {
    const small = { model: 'echo', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] };
    const heavy: Record<string, object> = {
      tools: {
        ...small,
        tools: [{ type: 'function', function: { name: 'f', description: 'd'.repeat(10_000), parameters: { type: 'object', properties: {} } } }],
      },
      'response_format schema': {
        ...small,
        response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object', description: 'd'.repeat(10_000) } } },
      },
      'tool-call arguments': {
        ...small,
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: JSON.stringify({ q: 'd'.repeat(10_000) }) } }],
          },
          { role: 'tool', tool_call_id: 'c', content: 'ok' },
          { role: 'user', content: 'hi' },
        ],
      },
    };
    for (const [what, body] of Object.entries(heavy)) {
      const r = await post(url, body, authHeaders('sk-small'));
      expect({ what, status: r.status, message: r.json?.error?.message }).toEqual({
        what,
        status: 429,
        message: expect.stringMatching(/^Request too large .* limit 2000, requested 2\d{3} /),
      });
      expect(r.headers.get('retry-after')).toBeNull();
    }
    const fits = {
      ...small,
      tools: [{ type: 'function', function: { name: 'f', description: 'd'.repeat(4000), parameters: { type: 'object', properties: {} } } }],
    };
    const r = await post(url, fits, authHeaders('sk-small'));
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(2000 - 1000);
  });

  it('a failed request gives back its output reservation: failures never lock a key out', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post(url, { model: 'broken', messages: [{ role: 'user', content: 'hi' }] }, authHeaders('sk-failing'))).status);
    expect(statuses).toEqual([502, 502, 502]);
    expect(await remainingAfterProbe(running.url, 'sk-failing')).toBeGreaterThan(2000 - 100);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const warnings = (logs: Record<string, any>[]) => logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.context}: ${l.msg}`);

describe('a rate-limit store that cannot be reached', () => {
  it('logs the outage once, not once per request, and counts every failure in /metrics', async () => {
    const app = await startApp({
      API_KEYS: undefined,
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      METRICS_TOKEN: 'metrics-secret',
      API_KEYS_FILE: keyFile([{ key: 'sk-out', rpm: 10_000, tpm: 1_000_000 }]),
    });
    try {
      const from = app.logs.length;
      for (let i = 0; i < 10; i++) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => post(`${app.url}/v1/chat/completions`, hello, authHeaders('sk-out'))));
        expect(batch.map((r) => r.status)).toEqual(Array(20).fill(200));
      }
      expect(warnings(app.logs.slice(from))).toEqual([expect.stringMatching(/^RateLimit: Rate-limit store unavailable \(.*\); policy: allow/)]);
      const metrics = await (await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } })).text();
      expect(Number(/^gateway_rate_limit_store_errors_total\{policy="allow"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2 * 200);
    } finally {
      await app.close();
    }
  });
});

const REDIS_URL = await testRedisUrl();
const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) console.warn('No Redis (REDIS_URL unset, nothing at 127.0.0.1:6379): the Redis rate-limit tests are skipped');

describeRedis('rate limits shared through Redis', () => {
  it('two instances on one Redis share one budget, which resets with the window', async () => {
    const file = keyFile([{ key: 'sk-shared', rpm: 4 }]);
    const env = { API_KEYS: undefined, REDIS_URL, RATE_LIMIT_WINDOW_SECONDS: '2', API_KEYS_FILE: file };
    const [a, b] = [await startApp(env), await startApp(env)];
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await post(`${(i % 2 ? b : a).url}/v1/chat/completions`, hello, authHeaders('sk-shared'))).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      await sleep(2100);
      expect((await post(`${b.url}/v1/chat/completions`, hello, authHeaders('sk-shared'))).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('two instances on one Redis share one token budget: a stream settled on one is charged on the other', async () => {
    const upstream = new MockUpstream();
    upstream.handler = toolTalker;
    await upstream.start();
    const env = {
      API_KEYS: undefined,
      REDIS_URL,
      RATE_LIMIT_WINDOW_SECONDS: '60',
      CONFIG_FILE: budgetConfig(upstream),
      API_KEYS_FILE: keyFile([
        { key: 'sk-rbase', tpm: 100_000 },
        { key: 'sk-rstream', tpm: 100_000 },
      ]),
    };
    const [a, b] = [await startApp(env), await startApp(env)];
    try {
      const r = await post(`${a.url}/v1/chat/completions`, askTools(true), authHeaders('sk-rstream'));
      expect(r.status).toBe(200);
      await sleep(100);
      const charged = (await remainingAfterProbe(b.url, 'sk-rbase')) - (await remainingAfterProbe(b.url, 'sk-rstream'));
      expect(charged).toBeGreaterThanOrEqual(3000);
      expect(charged).toBeLessThan(3100);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await upstream.stop();
    }
  });

  it('logs a Redis outage once when it starts and once when it ends, however many requests pass in between', async () => {
    const redis = new URL(REDIS_URL!);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const viaProxy = new URL(REDIS_URL!);
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const app = await startApp({ API_KEYS: undefined, REDIS_URL: viaProxy.toString(), API_KEYS_FILE: keyFile([{ key: 'sk-o', rpm: 10_000, tpm: 1_000_000 }]) });
    const url = `${app.url}/v1/chat/completions`;
    try {
      expect((await post(url, hello, authHeaders('sk-o'))).status).toBe(200);
      const from = app.logs.length;
      await proxy.cut();
      for (let i = 0; i < 100; i++) expect((await post(url, hello, authHeaders('sk-o'))).status).toBe(200);
      await proxy.start(proxy.port);
      const back = (l: Record<string, any>) => l.context === 'RateLimit' && /answers again/.test(l.msg);
      for (let i = 0; i < 100 && !app.logs.some(back); i++) {
        await post(url, hello, authHeaders('sk-o'));
        await sleep(100);
      }
      const logs = app.logs.slice(from);
      expect(warnings(logs).filter((w) => w.startsWith('RateLimit'))).toHaveLength(1);
      expect(warnings(logs).filter((w) => w.startsWith('Redis')).length).toBeLessThanOrEqual(1);
      expect(logs.filter(back)).toHaveLength(1);
    } finally {
      await app.close();
      await proxy.cut();
    }
  });

  it.each([
    ['allow', 200],
    ['deny', 503],
  ])('with Redis gone mid-run and RATE_LIMIT_ON_STORE_ERROR=%s, answers %i and keeps serving', async (policy, expected) => {
    const redis = new URL(REDIS_URL!);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const viaProxy = new URL(REDIS_URL!);
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const app = await startApp({
      API_KEYS: undefined,
      REDIS_URL: viaProxy.toString(),
      RATE_LIMIT_ON_STORE_ERROR: policy,
      API_KEYS_FILE: keyFile([{ key: 'sk-p', rpm: 100 }]),
    });
    try {
      const url = `${app.url}/v1/chat/completions`;
      let ok = 0;
      for (let i = 0; i < 40 && ok === 0; i++) {
        if ((await post(url, hello, authHeaders('sk-p'))).status === 200) ok++;
        else await sleep(50);
      }
      expect(ok).toBe(1);
      await proxy.cut();
      const started = Date.now();
      const r = await post(url, hello, authHeaders('sk-p'));
      expect(r.status).toBe(expected);
      expect(Date.now() - started).toBeLessThan(2500);
      expect((await fetch(`${app.url}/v1/health`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
