import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { authHeaders, post, startApp, type RunningApp } from './support/app.js';
import { sleep } from './support/mock-upstream.js';

const ISSUER = 'https://id.platform.test';
const AUDIENCE = 'chat-gateway';
const hello = { model: 'echo', messages: [{ role: 'user', content: 'hi' }] };

async function token(key: CryptoKey, alg: string, claims: Record<string, unknown> = {}, opts: { aud?: string; exp?: string | number; kid?: string } = {}) {
  return new SignJWT({ sub: 'svc-reporting', ...claims })
    .setProtectedHeader({ alg, ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key);
}

describe.each(['RS256', 'ES256', 'EdDSA'])('platform-issued JWTs signed %s, key given inline', (alg) => {
  let running: RunningApp;
  let privateKey: CryptoKey;
  let url: string;

  beforeAll(async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    privateKey = pair.privateKey;
    running = await startApp({
      API_KEYS: 'sk-static',
      AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  it('accepts a valid token, and plain keys still work', async () => {
    expect((await post(url, hello, authHeaders(await token(privateKey, alg)))).status).toBe(200);
    expect((await post(url, hello, authHeaders('sk-static'))).status).toBe(200);
  });

  it('enforces the models claim', async () => {
    const t = await token(privateKey, alg, { models: ['other-*'] });
    expect((await post(url, hello, authHeaders(t))).status).toBe(403);
  });

  it.each([
    ['expired', async (k: CryptoKey) => token(k, alg, {}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['for another audience', async (k: CryptoKey) => token(k, alg, {}, { aud: 'someone-else' }), /claim 'aud'/],
    ['signed by another key', async () => token((await generateKeyPair(alg)).privateKey, alg), /signature/],
  ])('refuses a token %s with 401', async (_name, make, why) => {
    const t = await make(privateKey);
    const r = await post(url, hello, authHeaders(t));
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(r.json.error.message).toMatch(why);
    expect(r.text).not.toContain(t);
  });
});

describe('platform-issued JWTs from a JWKS endpoint', () => {
  let running: RunningApp;
  let jwks: Server;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    running = await startApp({ API_KEYS: undefined, AUTH_JWT_JWKS_URL: jwksUrl, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await running.close();
    jwks.closeAllConnections();
    await new Promise((r) => jwks.close(r));
  });

  it('verifies against the published keys and maps rpm from the claims', async () => {
    const t = await token(privateKey, 'ES256', { rpm: 2 }, { kid: 'k1' });
    const url = `${running.url}/v1/chat/completions`;
    const first = await post(url, hello, authHeaders(t));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect((await post(url, hello, authHeaders(t))).status).toBe(200);
    expect((await post(url, hello, authHeaders(t))).status).toBe(429);
  });

  it('refuses a token whose kid is unknown', async () => {
    const t = await token(privateKey, 'ES256', {}, { kid: 'nope' });
    expect((await post(`${running.url}/v1/chat/completions`, hello, authHeaders(t))).status).toBe(401);
  });
});

describe('JWT claims in a form they cannot have refuse the token', () => {
  let running: RunningApp;
  let privateKey: CryptoKey;
  let url: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    running = await startApp({
      API_KEYS: undefined,
      AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  const malformed: [string, unknown][] = [
    ['models', 'echo-marker-string'],
    ['models', null],
    ['models', 7331],
    ['models', { 'echo-marker-key': true }],
    ['models', ['echo', 7331]],
    ['models', ['echo', null]],
    ['models', ['echo', '']],
    ['rpm', 0],
    ['rpm', -7331],
    ['rpm', 73.31],
    ['rpm', '7331'],
    ['rpm', null],
    ['rpm', 2 ** 60],
    ['rpm', [7331]],
    ['tpm', 0],
    ['tpm', -7331],
    ['tpm', 73.31],
    ['tpm', '7331'],
    ['tpm', null],
    ['tpm', 2 ** 60],
    ['sub', 7331],
    ['sub', null],
    ['sub', ''],
    ['sub', ['svc-marker']],
    ['sub', 's'.repeat(257)],
  ];
  const shortly = (v: unknown) =>
    JSON.stringify(v).length > 30 ? `${JSON.stringify(v).slice(0, 12)}… (${JSON.stringify(v).length} characters)` : JSON.stringify(v);
  it.each(malformed.map(([claim, value]) => [claim, shortly(value), value]))(
    'claim %s = %s: 401 naming the claim, not its value',
    async (claim, _shown, value) => {
      const r = await post(url, hello, authHeaders(await token(privateKey, 'ES256', { [claim]: value })));
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.json.error.type).toBe('authentication_error');
      expect(r.json.error.message).toContain(`claim '${claim}'`);
      const shown = JSON.stringify(value);
      if (shown.length > 4) for (const part of [shown, String(value), '7331', 'marker', 'sss']) expect(r.text).not.toContain(part);
    },
  );

  it('takes well-formed claims: a model list, limits, a sub of 256 characters', async () => {
    const t = await token(privateKey, 'ES256', { sub: 's'.repeat(256), models: ['echo', 'vllm/*'], rpm: 5, tpm: Number.MAX_SAFE_INTEGER });
    const r = await post(url, hello, authHeaders(t));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(r.headers.get('x-ratelimit-limit-tokens')).toBe(String(Number.MAX_SAFE_INTEGER));
  });

  it('reads an empty models list as no model at all, and no models claim as every model', async () => {
    const none = await token(privateKey, 'ES256', { sub: 'svc-none', models: [] });
    expect((await post(url, hello, authHeaders(none))).status).toBe(403);
    const models = (await (await fetch(`${running.url}/v1/models`, { headers: authHeaders(none) })).json()) as { data: unknown[] };
    expect(models.data).toEqual([]);
    expect((await post(url, hello, authHeaders(await token(privateKey, 'ES256', { sub: 'svc-all' })))).status).toBe(200);
  });
});

describe("a JWT whose sub is a key's name is a different caller", () => {
  const METRICS_TOKEN = 'metrics-token-for-the-jwt-spec';
  const sha = (key: string) => createHash('sha256').update(key).digest('hex');
  let running: RunningApp;
  let privateKey: CryptoKey;
  let url: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-keys-')), 'keys.yaml');
    const entries = ['svc-a', 'svc-b'].map((name) => ({ name, sha256: sha(`sk-${name}`), rpm: 2 }));
    writeFileSync(file, stringify([...entries, { name: 'svc-c', sha256: sha('sk-svc-c') }]));
    running = await startApp({
      API_KEYS: undefined,
      API_KEYS_FILE: file,
      API_KEYS_FILE_WATCH: 'false',
      METRICS_TOKEN,
      AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  const statuses = async (auth: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(url, hello, authHeaders(auth))).status);
    return out;
  };

  it.each([
    ['svc-a', 'key first'],
    ['svc-b', 'token first'],
  ])('%s (%s): each has its own rpm bucket', async (name, order) => {
    const key = `sk-${name}`;
    const jwt = await token(privateKey, 'ES256', { sub: name, rpm: 2 });
    const [first, second] = order === 'key first' ? [key, jwt] : [jwt, key];
    expect(await statuses(first, 3)).toEqual([200, 200, 429]);
    expect(await statuses(second, 3)).toEqual([200, 200, 429]);
  });

  it('shows the two under different names in the request log and in metrics', async () => {
    expect(await statuses('sk-svc-c', 1)).toEqual([200]);
    expect(await statuses(await token(privateKey, 'ES256', { sub: 'svc-c' }), 2)).toEqual([200, 200]);
    const logged = () => running.logs.filter((l) => l.msg === 'request' && (l.key === 'svc-c' || l.key === 'jwt:svc-c')).map((l) => l.key as string);
    for (let i = 0; i < 40 && logged().length < 3; i++) await sleep(25);
    expect(logged().sort()).toEqual(['jwt:svc-c', 'jwt:svc-c', 'svc-c']);
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const promptTokens = (k: string) => Number(new RegExp(`^gateway_tokens_total\\{model="echo",key="${k}",type="prompt"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(promptTokens('svc-c')).toBeGreaterThan(0);
    expect(promptTokens('jwt:svc-c')).toBe(2 * promptTokens('svc-c'));
  });
});
