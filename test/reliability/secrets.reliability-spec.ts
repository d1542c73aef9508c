import { AnthropicMock, sendError as sendAnthropicError } from '../support/anthropic-mock.js';
import { startApp, type RunningApp } from '../support/app.js';
import { writeConfig } from '../support/config-file.js';
import { chunk, completion, MockUpstream, reply, streamFrames } from '../support/mock-upstream.js';
import { send, type Reply } from './support/http-client.js';
import { authEnv, CLIENT_KEY, makeJwtKit, METRICS_TOKEN, SecretScanner, UPSTREAM_KEY, WRONG_KEY, type JwtKit } from './support/secrets.js';
import { recordSummary } from './support/summary.js';

const hello = [{ role: 'user', content: 'hi' }];

describe('part 3: no client key, upstream key or JWT in any log line, reply body or header', () => {
  const openai = new MockUpstream();
  const anthropic = new AnthropicMock(UPSTREAM_KEY);
  let running: RunningApp;
  let jwt: JwtKit;
  let scanner: SecretScanner;
  const replies: Reply[] = [];
  /** Refused tokens made during the tests: they must not show up anywhere either. */
  const secretsFromTest: string[] = [];

  beforeAll(async () => {
    jwt = await makeJwtKit();
    await Promise.all([openai.start(), anthropic.start()]);
    const config = writeConfig(`
providers:
  up:
    type: openai
    baseURL: ${openai.baseURL}
    apiKey: \${REL_UPSTREAM_KEY}
    maxRetries: 1
    retryBackoffMs: 5
  claude:
    type: anthropic
    baseURL: ${anthropic.baseURL}
    apiKey: \${REL_UPSTREAM_KEY}
    maxRetries: 0
models:
  - name: gpt
    provider: up
  - name: claude
    provider: claude
`);
    running = await startApp({ ...authEnv(jwt), CONFIG_FILE: config, REL_UPSTREAM_KEY: UPSTREAM_KEY, METRICS_TOKEN, LOG_LEVEL: 'debug', LOG_BODIES: 'true' });
  });
  afterAll(async () => {
    await running.close();
    await Promise.all([openai.stop(), anthropic.stop()]);
  });
  beforeEach(() => {
    openai.reset((req, res) =>
      req.json?.stream
        ? streamFrames(res, [chunk('m', { role: 'assistant', content: '' }), chunk('m', { content: 'ok' }, 'stop')])
        : reply(res, 200, completion('m', 'ok')),
    );
  });

  async function ask(token: string | undefined, body: Record<string, unknown>): Promise<Reply> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const r = await send(`${running.url}/v1/chat/completions`, { headers, body: JSON.stringify(body), agent: false });
    replies.push(r);
    return r;
  }

  it('serves keys and JWTs (the upstream gets its own key, never the client one)', async () => {
    for (const token of [CLIENT_KEY, jwt.token]) {
      for (const stream of [false, true]) {
        expect((await ask(token, { model: 'gpt', messages: hello, stream })).status).toBe(200);
        const seen = openai.requests.at(-1)!;
        expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
        expect(JSON.stringify(seen.headers) + seen.body).not.toContain(token);
      }
    }
  });

  it('refuses wrong, expired, forged and misdirected credentials without repeating them', async () => {
    const bad = {
      wrong: WRONG_KEY,
      expired: await jwt.sign({}, { exp: Math.floor(Date.now() / 1000) - 60 }),
      audience: await jwt.sign({}, { aud: 'elsewhere' }),
      forged: await jwt.sign({}, { key: (await makeJwtKit()).privateKey }),
      tampered: `${jwt.token.split('.')[0]}.${Buffer.from('{"sub":"root","exp":9999999999}').toString('base64url')}.${jwt.token.split('.')[2]}`,
    };
    for (const [name, token] of Object.entries(bad)) {
      const r = await ask(token, { model: 'gpt', messages: hello });
      expect([name, r.status]).toEqual([name, 401]);
      expect(r.text).not.toContain(token);
    }
    const limited = await jwt.sign({ models: ['other'] });
    expect((await ask(limited, { model: 'gpt', messages: hello })).status).toBe(403);
    for (const auth of [`Bearer ${WRONG_KEY}`, `Bearer ${CLIENT_KEY}`, `Basic ${Buffer.from(`u:${METRICS_TOKEN}x`).toString('base64')}`]) {
      const r = await send(`${running.url}/metrics`, { method: 'GET', headers: { authorization: auth }, agent: false });
      replies.push(r);
      expect(r.status).toBe(401);
    }
    // The scrape itself names keys (key-1), never what they are: the scan below covers it.
    const scrape = await send(`${running.url}/metrics`, { method: 'GET', headers: { authorization: `Bearer ${METRICS_TOKEN}` }, agent: false });
    replies.push(scrape);
    expect([scrape.status, scrape.text]).toEqual([200, expect.stringContaining('gateway_requests_total')]);
    secretsFromTest.push(...Object.values(bad), limited);
  });

  /** An upstream that, like many servers, quotes the credential it was given in its error message. */
  const quoting = (auth: string | string[] | undefined) => `Incorrect API key provided: ${String(auth).replace(/^Bearer /, '')}.`;

  it.each([
    ['a 401 (the credentials of the service failing) turned into a 502', 401, false],
    ['a 401 turned into a 502, streamed', 401, true],
    ['a 500 storm turned into a 502', 500, false],
    ['a 500 storm turned into a 502, streamed', 500, true],
  ] as const)('does not relay the upstream key when the upstream quotes it: %s', async (_name, status, stream) => {
    openai.reset((req, res) =>
      reply(res, status, { error: { message: quoting(req.headers.authorization), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
    );
    const r = await ask(CLIENT_KEY, { model: 'gpt', messages: hello, stream });
    expect(r.status).toBe(502);
    expect(r.text).not.toContain(UPSTREAM_KEY);
  });

  it('does not relay the upstream key when a stream fails with an error event that quotes it', async () => {
    openai.reset((req, res) =>
      streamFrames(res, [chunk('m', { role: 'assistant', content: '' }), { error: { message: quoting(req.headers.authorization), type: 'server_error' } }], {
        done: false,
      }),
    );
    const r = await ask(CLIENT_KEY, { model: 'gpt', messages: hello, stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('"error"');
    expect(r.text).not.toContain(UPSTREAM_KEY);
  });

  it('does not relay the Anthropic key when Anthropic quotes it', async () => {
    anthropic.reset((call, res) => sendAnthropicError(res, 401, 'authentication_error', `invalid x-api-key ${String(call.headers['x-api-key'])}`));
    const r = await ask(CLIENT_KEY, { model: 'claude', messages: hello });
    expect(r.status).toBe(502);
    expect(r.text).not.toContain(UPSTREAM_KEY);
  });

  it('keeps every secret out of the logs (LOG_LEVEL=debug, LOG_BODIES=true), the bodies and the headers', async () => {
    scanner = new SecretScanner({ CLIENT_KEY, WRONG_KEY, UPSTREAM_KEY, METRICS_TOKEN, JWT: jwt.token });
    secretsFromTest.forEach((s, i) => scanner.add(`refused token #${i}`, s));
    for (const line of running.logs) scanner.scan(`log: ${String(line.msg).slice(0, 40)}`, JSON.stringify(line));
    // Bodies and headers of the answers above, except those of the leak tests (they have their own assertion).
    for (const r of replies)
      if (!r.text.includes('Incorrect API key') && !r.text.includes('invalid x-api-key')) scanner.scan(`reply ${r.status}`, r.text + JSON.stringify(r.headers));
    recordSummary('secrets', {
      logLines: running.logs.length,
      replies: replies.length,
      textsScanned: scanner.scannedTexts,
      bytesScanned: scanner.scannedBytes,
      hits: scanner.hits.length,
    });
    expect(running.logs.length).toBeGreaterThan(10);
    expect(scanner.hits).toEqual([]);
  });
});
