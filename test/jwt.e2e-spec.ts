import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authHeaders, post, startApp, type RunningApp } from './support/app.js';

const ISSUER = 'https://id.platform.test';
const AUDIENCE = 'chat-gateway';
const hello = { model: 'echo', messages: [{ role: 'user', content: 'hi' }] };

async function token(key: CryptoKey, alg: string, claims: Record<string, unknown> = {}, opts: { aud?: string; exp?: string | number; kid?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, ...(opts.kid ? { kid: opts.kid } : {}) })
    .setSubject('svc-reporting')
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
    running = await startApp({ API_KEYS: 'sk-static', AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey), AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });
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
