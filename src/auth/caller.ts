/**
 * What every JWT caller's name starts with (`jwt:<sub>`). Key names may not, so a token's `sub` can
 * never share a key's rate-limit buckets, metrics or log name.
 */
export const JWT_CALLER_PREFIX = 'jwt:';

/** Who is calling: what a key or token maps to. Never holds the key itself. */
export interface Caller {
  /** What logs, metrics and rate limits key on: the key's name, `key-<n>` for API_KEYS, `jwt:<sub>` for a token. */
  name: string;
  /** Allowed model names or `prefix*` patterns; undefined = all, empty = none. */
  models?: string[];
  /** Requests per minute; undefined = unlimited. */
  rpm?: number;
  /** Tokens per minute; undefined = unlimited. */
  tpm?: number;
}
