import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { authHeaders, post, startApp, type RunningApp } from './support/app.js';
import { sleep } from './support/mock-upstream.js';
import { TcpProxy } from './support/tcp-proxy.js';

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
    running = await startApp({ API_KEYS: undefined, REDIS_URL: undefined, RATE_LIMIT_WINDOW_SECONDS: '2', API_KEYS_FILE: keyFile([{ key: 'sk-rpm', rpm: 3 }, { key: 'sk-tpm', tpm: 60 }, { key: 'sk-free' }]) });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  it('counts requests per window: replies carry OpenAI\'s headers, the one over gets 429 with Retry-After', async () => {
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
    for (let i = 0; i < 6; i++) statuses.push((await post(url, hello, authHeaders('sk-tpm'))).status);
    // each reply uses 16 tokens (8 prompt + 8 completion) of 60
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    const r = await post(url, hello, authHeaders('sk-tpm'));
    expect(r.headers.get('x-ratelimit-limit-tokens')).toBe('60');
  });

  it('leaves keys without limits alone', async () => {
    const r = await post(url, hello, authHeaders('sk-free'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });
});

const REDIS_URL = process.env.REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) console.warn('REDIS_URL is not set: the Redis rate-limit tests are skipped');

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

  it.each([
    ['allow', 200],
    ['deny', 503],
  ])('with Redis gone mid-run and RATE_LIMIT_ON_STORE_ERROR=%s, answers %i and keeps serving', async (policy, expected) => {
    const redis = new URL(REDIS_URL!);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const viaProxy = new URL(REDIS_URL!);
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const app = await startApp({ API_KEYS: undefined, REDIS_URL: viaProxy.toString(), RATE_LIMIT_ON_STORE_ERROR: policy, API_KEYS_FILE: keyFile([{ key: 'sk-p', rpm: 100 }]) });
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
