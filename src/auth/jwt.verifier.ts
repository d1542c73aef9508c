import { createPublicKey, type KeyObject } from 'node:crypto';
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { AuthenticationError } from '../common/errors/api-error.js';
import { JWT_CALLER_PREFIX, type Caller } from './caller.js';

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

/** The longest `sub` accepted: it becomes a metrics label and a log field. */
export const MAX_SUB_LENGTH = 256;

/**
 * Verifies platform-issued tokens with jose (signature, exp, nbf, issuer, audience) and maps them
 * to a caller: `jwt:<sub>` is the name, `models`, `rpm` and `tpm` claims its access and limits.
 * A claim present in a form it cannot have refuses the token: it never widens access.
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
      ({ payload } = await verify(token, this.key, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      throw new AuthenticationError(`Invalid token: ${reason(this.jose.errors, err)}.`);
    }
    return callerFromClaims(payload);
  }
}

function callerFromClaims(payload: JWTPayload): Caller {
  const { sub, models, rpm, tpm } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH)
    throw badClaim('sub', `a non-empty string of at most ${MAX_SUB_LENGTH} characters`);
  if (models !== undefined && !(Array.isArray(models) && models.every((m) => typeof m === 'string' && m.length > 0)))
    throw badClaim('models', 'an array of model names');
  return { name: `${JWT_CALLER_PREFIX}${sub}`, models: models as string[] | undefined, rpm: limit('rpm', rpm), tpm: limit('tpm', tpm) };
}

function limit(claim: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  throw badClaim(claim, 'a positive whole number');
}

/** Names the claim and what it must be, never the value sent. */
function badClaim(claim: string, mustBe: string): AuthenticationError {
  return new AuthenticationError(`Invalid token: claim '${claim}' must be ${mustBe}.`);
}

/** What went wrong, in words that reveal nothing of the token. */
function reason(joseErrors: Jose['errors'], err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return `claim '${err.claim}' ${err.reason === 'check_failed' ? 'is not accepted' : 'is missing or invalid'}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches it';
  return 'it could not be verified';
}
