import { createPublicKey, type KeyObject } from 'node:crypto';
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { AuthenticationError } from '../common/errors/api-error.js';
import type { Caller } from './caller.js';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

type Jose = typeof import('jose');

export interface JwtSettings {
  jwksUrl?: string;
  publicKeyPem?: string;
  issuer: string;
  audience: string;
}

/** Three base64url segments, the first a JSON header: worth verifying as a JWT rather than looking up as a key. */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.split('.').length === 3;
}

/**
 * Verifies platform-issued tokens with jose (signature, exp, nbf, issuer, audience) and maps them
 * to a caller: `sub` is the name, `models`, `rpm` and `tpm` claims its access and limits.
 */
export class JwtVerifier {
  private readonly key: KeyObject | ReturnType<typeof createRemoteJWKSet>;

  /** jose is loaded only when JWTs are configured (a service with API keys alone keeps its memory). */
  static async create(settings: JwtSettings): Promise<JwtVerifier> {
    return new JwtVerifier(settings, await import('jose'));
  }

  private constructor(
    private readonly settings: JwtSettings,
    private readonly jose: Jose,
  ) {
    if (settings.publicKeyPem) {
      try {
        this.key = createPublicKey(settings.publicKeyPem.replace(/\\n/g, '\n'));
      } catch {
        throw new Error('AUTH_JWT_PUBLIC_KEY is not a PEM public key');
      }
    } else if (settings.jwksUrl) this.key = jose.createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 });
    else throw new Error('JWT verification needs AUTH_JWT_JWKS_URL or AUTH_JWT_PUBLIC_KEY');
  }

  async verify(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      const verify = this.jose.jwtVerify as (t: string, k: unknown, o: object) => Promise<{ payload: JWTPayload }>;
      ({ payload } = await verify(token, this.key, { issuer: this.settings.issuer, audience: this.settings.audience, algorithms: ALGORITHMS, requiredClaims: ['sub', 'exp'] }));
    } catch (err) {
      throw new AuthenticationError(`Invalid token: ${reason(this.jose.errors, err)}.`);
    }
    const models = payload.models;
    return {
      name: String(payload.sub),
      models: Array.isArray(models) && models.every((m) => typeof m === 'string') ? models : undefined,
      rpm: positiveInt(payload.rpm),
      tpm: positiveInt(payload.tpm),
    };
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** What went wrong, in words that reveal nothing of the token. */
function reason(joseErrors: Jose['errors'], err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim '${err.claim}' ${err.reason === 'check_failed' ? 'is not accepted' : 'is missing or invalid'}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches it';
  return 'it could not be verified';
}
