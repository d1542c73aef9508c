import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/** Distinctive secrets: easy to find in a log line or a body, and found nowhere by chance. */
export const CLIENT_KEY = 'sk-rel-client-5f0c1a7e93b24d6c8e1f0a2b3c4d5e6f';
/** A key the service does not accept; a wrong key may be someone's real key, so it is never logged either. */
export const WRONG_KEY = 'sk-rel-wrong-9d8c7b6a5f4e3d2c1b0a99887766554433';
/** The provider key, given to the service only through `${REL_UPSTREAM_KEY}` in CONFIG_FILE. */
export const UPSTREAM_KEY = 'sk-rel-upstream-a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const METRICS_TOKEN = 'rel-metrics-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
export const JWT_ISSUER = 'https://id.reliability.test';
export const JWT_AUDIENCE = 'chat-gateway-reliability';

export interface JwtKit {
  publicKeyPem: string;
  privateKey: CryptoKey;
  /** A valid token for `rel-jwt-caller`. */
  token: string;
  sign(claims?: Record<string, unknown>, opts?: { exp?: number | string; aud?: string; key?: CryptoKey }): Promise<string>;
}

/** An ES256 key pair made with jose, and a valid token signed with it. */
export async function makeJwtKit(): Promise<JwtKit> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const sign = (claims: Record<string, unknown> = {}, opts: { exp?: number | string; aud?: string; key?: CryptoKey } = {}) =>
    new SignJWT({ ...claims, note: 'reliability' })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('rel-jwt-caller')
      .setIssuer(JWT_ISSUER)
      .setAudience(opts.aud ?? JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '30m')
      .sign(opts.key ?? privateKey);
  return { publicKeyPem: await exportSPKI(publicKey), privateKey, token: await sign(), sign };
}

/** The environment that makes a service accept CLIENT_KEY and JWTs of the kit. */
export function authEnv(jwt: JwtKit): Record<string, string> {
  return { API_KEYS: CLIENT_KEY, AUTH_JWT_PUBLIC_KEY: jwt.publicKeyPem, AUTH_JWT_ISSUER: JWT_ISSUER, AUTH_JWT_AUDIENCE: JWT_AUDIENCE };
}

/**
 * Collects every log line and body a part saw, and finds secrets in them. A JWT is looked for whole
 * and by its signature segment (a token cut in two still leaks its signature).
 */
export class SecretScanner {
  private readonly needles: { name: string; value: string }[] = [];
  readonly hits: { secret: string; where: string; excerpt: string }[] = [];
  scannedTexts = 0;
  scannedBytes = 0;

  constructor(secrets: Record<string, string>) {
    for (const [name, value] of Object.entries(secrets)) this.add(name, value);
  }

  add(name: string, value: string): void {
    this.needles.push({ name, value });
    const parts = value.split('.');
    if (parts.length === 3 && parts[2].length >= 16) this.needles.push({ name: `${name} (signature)`, value: parts[2] });
  }

  scan(where: string, text: string | undefined): void {
    if (!text) return;
    this.scannedTexts++;
    this.scannedBytes += text.length;
    for (const n of this.needles) {
      const i = text.indexOf(n.value);
      if (i !== -1 && this.hits.length < 50) this.hits.push({ secret: n.name, where, excerpt: text.slice(Math.max(0, i - 120), i + n.value.length + 40) });
    }
  }
}
