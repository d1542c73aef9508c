import { createHash } from 'node:crypto';
import { ShutdownState } from '../src/health/shutdown.state.js';
import { SCRAPE_CACHE_MS } from '../src/metrics/metrics.service.js';
import { authHeaders, KEY, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { chunk, completion, MockUpstream, reply, sleep } from './support/mock-upstream.js';
import { spawnService } from './support/service-process.js';

const hello = { model: 'echo', messages: [{ role: 'user', content: 'secret prompt words' }] };

describe('operations', () => {
  const upstream = new MockUpstream();
  let running: RunningApp;

  beforeAll(async () => {
    await upstream.start();
    const config = writeConfig(`
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
  - name: remote
    provider: up
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config, METRICS_TOKEN: 'metrics-secret', HEALTH_CACHE_MS: '0', MAX_BODY_BYTES: '2048' });
  });
  afterAll(async () => {
    await running.close();
    await upstream.stop();
  });
  beforeEach(() =>
    upstream.reset((req, res) => (req.url.endsWith('/models') ? reply(res, 200, { object: 'list', data: [] }) : reply(res, 200, completion('m', 'ok')))),
  );

  it('answers liveness without a key', async () => {
    const res = await fetch(`${running.url}/v1/health`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('reports readiness per check, and flips to 503 when a provider is down', async () => {
    const ok = await fetch(`${running.url}/v1/system-check`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', checks: { 'provider:up': { status: 'up' } } });
    upstream.reset((_req, res) => reply(res, 503, 'down'));
    const down = await fetch(`${running.url}/v1/system-check`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unavailable', checks: { 'provider:up': { status: 'down', error: 'answered 503' } } });
  });

  const scrapeAs = (authorization?: string) => fetch(`${running.url}/metrics`, { headers: authorization ? { authorization } : {} });
  /** A scrape rendered after everything before it: the text is reused for SCRAPE_CACHE_MS. */
  const freshScrape = async () => {
    await sleep(SCRAPE_CACHE_MS + 50);
    return (await scrapeAs('Bearer metrics-secret')).text();
  };
  const count = (text: string, line: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(line))
        ?.split(' ')
        .at(-1) ?? 0,
    );

  // Three echo replies of 3 tokens each: the stream without include_usage is counted with echo's own usage too.
  it('counts requests, tokens and latency in /metrics, behind METRICS_TOKEN', async () => {
    const before = await freshScrape();
    await post(`${running.url}/v1/chat/completions`, hello);
    await post(`${running.url}/v1/chat/completions`, { ...hello, stream: true, stream_options: { include_usage: true } });
    await post(`${running.url}/v1/chat/completions`, { ...hello, stream: true });
    await post(`${running.url}/v1/chat/completions`, { ...hello, model: 'nope' });
    const after = await freshScrape();
    expect(
      count(after, 'gateway_requests_total{model="echo",provider="echo",status="200"}') -
        count(before, 'gateway_requests_total{model="echo",provider="echo",status="200"}'),
    ).toBe(3);
    expect(count(after, 'gateway_requests_total{model="unresolved",provider="none",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(
      count(after, 'gateway_tokens_total{model="echo",key="key-1",type="completion"}') -
        count(before, 'gateway_tokens_total{model="echo",key="key-1",type="completion"}'),
    ).toBe(9);
    expect(after).toContain('gateway_time_to_first_token_seconds_bucket{le="0.005",model="echo",provider="echo",stream="true"}');
    expect(after).toContain('gateway_in_flight_streams 0');
    expect(after).toContain('process_resident_memory_bytes');
  });

  it('refuses /metrics without the token, with a wrong one and with an API key: 401 and no metric text', async () => {
    for (const authorization of [undefined, 'Bearer metrics-secreT', 'metrics-secret', `Bearer ${KEY}`]) {
      const res = await scrapeAs(authorization);
      const text = await res.text();
      expect([authorization, res.status, res.headers.get('www-authenticate')]).toEqual([authorization, 401, 'Bearer']);
      expect(JSON.parse(text)).toMatchObject({
        detail: expect.stringContaining('METRICS_TOKEN'),
        error: { type: 'authentication_error', code: 'invalid_api_key' },
      });
      expect(text).not.toContain('gateway_');
    }
    expect((await scrapeAs('bearer   metrics-secret')).status).toBe(200);
  });

  it(`reuses a rendered scrape for ${SCRAPE_CACHE_MS} ms, then counts afresh`, async () => {
    const line = 'gateway_requests_total{model="echo",provider="echo",status="200"}';
    const first = await freshScrape();
    await post(`${running.url}/v1/chat/completions`, hello);
    await sleep(20);
    const again = await (await scrapeAs('Bearer metrics-secret')).text();
    expect(again).toBe(first);
    const later = await freshScrape();
    expect(count(later, line) - count(first, line)).toBe(1);
  });

  it('counts upstream errors by kind', async () => {
    upstream.reset((_req, res) => reply(res, 500, { error: { message: 'x' } }));
    await post(`${running.url}/v1/chat/completions`, { ...hello, model: 'remote' });
    expect(await freshScrape()).toMatch(/gateway_upstream_errors_total\{provider="up",kind="5xx"\} [1-9]/);
  });

  it('takes X-Request-Id or makes one, returns it, and logs one line per request without the prompt', async () => {
    const given = await post(`${running.url}/v1/chat/completions`, hello, { ...authHeaders(), 'x-request-id': 'trace-abc-123' });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await post(`${running.url}/v1/chat/completions`, hello);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await post(`${running.url}/v1/chat/completions`, hello, { ...authHeaders(), 'x-request-id': 'x'.repeat(500) });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await sleep(20);
    const lines = running.logs.filter((l) => l.reqId === 'trace-abc-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request',
      status: 200,
      key: 'key-1',
      model: 'echo',
      provider: 'echo',
      promptTokens: 3,
      completionTokens: 3,
      path: '/v1/chat/completions',
    });
    expect(lines[0].latencyMs).toEqual(expect.any(Number));
    expect(JSON.stringify(running.logs)).not.toContain('secret prompt words');
    expect(JSON.stringify(running.logs)).not.toContain(KEY);
  });

  it('refuses a body over MAX_BODY_BYTES with 413 and an OpenAI error body', async () => {
    const r = await post(`${running.url}/v1/chat/completions`, { ...hello, messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ detail: expect.any(String), error: { type: 'invalid_request_error', code: 'payload_too_large' } });
  });

  it('sends no CORS headers unless CORS_ORIGINS is set', async () => {
    const res = await fetch(`${running.url}/v1/models`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('readiness while draining', () => {
  it('answers 503 once shutdown has begun, while liveness stays 200', async () => {
    const app = await startApp({ API_KEYS: KEY });
    try {
      expect((await fetch(`${app.url}/v1/system-check`)).status).toBe(200);
      app.app.get(ShutdownState).begin();
      const res = await fetch(`${app.url}/v1/system-check`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', checks: { shutdown: { status: 'down', error: 'shutting down' } } });
      expect((await fetch(`${app.url}/v1/health`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('without METRICS_TOKEN', () => {
  it('answers GET /metrics with 404 and an error body that says why, and no metric text', async () => {
    const app = await startApp({ API_KEYS: KEY, METRICS_TOKEN: undefined });
    try {
      await post(`${app.url}/v1/chat/completions`, hello);
      for (const headers of [{}, authHeaders(), { authorization: 'Bearer ' }]) {
        const res = await fetch(`${app.url}/metrics`, { headers });
        const text = await res.text();
        expect(res.status).toBe(404);
        expect(JSON.parse(text)).toEqual({
          detail: 'GET /metrics is served only when METRICS_TOKEN is set.',
          error: { message: 'GET /metrics is served only when METRICS_TOKEN is set.', type: 'invalid_request_error', param: null, code: 'not_found' },
        });
        expect(text).not.toMatch(/gateway_|key-1|process_/);
      }
    } finally {
      await app.close();
    }
  });
});

describe('security headers on /docs', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ API_KEYS: KEY });
  });
  afterAll(() => app.close());

  const get = (path: string) => fetch(`${app.url}${path}`);
  const csp = async () => (await get('/docs')).headers.get('content-security-policy') ?? '';
  const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

  it.each([
    '/docs',
    '/docs/',
    '/docs/swagger-ui-bundle.js',
    '/docs/swagger-ui-standalone-preset.js',
    '/docs/swagger-ui-init.js',
    '/docs/swagger-ui.css',
    '/docs/favicon-32x32.png',
    '/openapi.json',
  ])('%s: CSP, no framing, nosniff', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self'; .*frame-ancestors 'none'$/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends none of them with the API', async () => {
    const res = await fetch(`${app.url}/v1/models`, { headers: authHeaders() });
    expect(res.status).toBe(200);
    expect([res.headers.get('content-security-policy'), res.headers.get('x-frame-options')]).toEqual([null, null]);
  });

  it("allows no inline script, and by hash exactly the inline styles of the page and of Swagger UI's logo", async () => {
    const policy = await csp();
    const html = await (await get('/docs')).text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<\s]/);
    const inline = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g), ...html.matchAll(/ style="([^"]*)"/g)].map((m) => m[1]);
    const scripts = await Promise.all(['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'].map(async (f) => (await get(`/docs/${f}`)).text()));
    const rendered = scripts.flatMap((js) => [...js.matchAll(/createElement\("style",null,"([^"]*)"\)/g)].map((m) => m[1]));
    expect([inline.length, rendered.length]).toEqual([3, 1]);
    const allowed = policy
      .split('; ')
      .find((d) => d.startsWith('style-src '))!
      .split(' ')
      .filter((s) => s.startsWith("'sha256-"));
    expect([...inline, ...rendered].map(sha256).sort()).toEqual(allowed.sort());
  });
});

describe('CORS_ORIGINS', () => {
  it('allows the listed origins only', async () => {
    const app = await startApp({ API_KEYS: KEY, CORS_ORIGINS: 'https://console.example' });
    try {
      const preflight = (origin: string) =>
        fetch(`${app.url}/v1/chat/completions`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
      expect((await preflight('https://console.example')).headers.get('access-control-allow-origin')).toBe('https://console.example');
      expect((await preflight('https://other.example')).headers.get('access-control-allow-origin')).toBeNull();
      // A browser client may read the headers a reply carries for it.
      const r = await fetch(`${app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { origin: 'https://console.example', authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(
        r.headers
          .get('access-control-expose-headers')
          ?.split(',')
          .map((h) => h.trim()),
      ).toEqual(expect.arrayContaining(['x-request-id', 'x-checkpoint-version', 'retry-after']));
    } finally {
      await app.close();
    }
  });
});

describe('graceful shutdown (the built service as a process)', () => {
  it('on SIGTERM: readiness 503, new connections refused, the stream in flight completes, exit 0', async () => {
    const upstream = await new MockUpstream().start();
    upstream.handler = async (req, res) => {
      if (req.url.endsWith('/models')) return reply(res, 200, { data: [] });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk('m', { role: 'assistant', content: '' }))}\n\n`);
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        res.write(`data: ${JSON.stringify(chunk('m', { content: `t${i} ` }))}\n\n`);
      }
      res.write(`data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\n`);
      res.end('data: [DONE]\n\n');
    };
    const config = writeConfig(`providers:\n  up:\n    type: openai\n    baseURL: ${upstream.baseURL}\nmodels:\n  - name: slow\n    provider: up\n`);
    const service = await spawnService({ API_KEYS: KEY, CONFIG_FILE: config, SHUTDOWN_GRACE_MS: '10000', HEALTH_CACHE_MS: '0' });
    const { child, exited } = service;
    try {
      if (!service.url) throw new Error(`service did not start: ${service.out()}`);
      const base = service.url;
      const streamText = post(`${base}/v1/chat/completions`, { model: 'slow', stream: true, messages: [{ role: 'user', content: 'go' }] });
      while (upstream.requests.filter((r) => r.url.endsWith('/chat/completions')).length === 0) await sleep(10);
      await sleep(150);
      const readinessBefore = await fetch(`${base}/v1/system-check`);
      expect(readinessBefore.status).toBe(200);
      child.kill('SIGTERM');
      await sleep(100);
      await expect(fetch(`${base}/v1/health`)).rejects.toThrow();
      const r = await streamText;
      const frames = sseData(r.text);
      expect(frames.at(-1)).toBe('[DONE]');
      expect(
        frames
          .slice(0, -1)
          .map((f) => JSON.parse(f).choices[0]?.delta.content ?? '')
          .join(''),
      ).toBe('t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 ');
      expect(await exited).toBe(0);
      expect(service.out()).toContain('draining');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await upstream.stop();
    }
  });
});
