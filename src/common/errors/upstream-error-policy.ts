import { ApiError, UpstreamError } from './api-error.js';
import { ERROR_CODES } from './error-codes.js';

/**
 * What an upstream failure means, decided here and nowhere else: whether it is worth another
 * try, worth a fallback, what the client finally gets, and the metric kind it counts as. Pure.
 */

/** Statuses worth another try: the request was fine, the upstream was not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** An upstream 401/403 is the service's own credentials failing, not the client's: it becomes a 502. */
export function isCredentialFailure(upstreamStatus: number): boolean {
  return upstreamStatus === 401 || upstreamStatus === 403;
}

/**
 * What the router does after one attempt failed: try another target at once (not a failure of the
 * target), retry after a backoff, or stop trying this model.
 */
export type AttemptDecision = 'other_target' | 'retry' | 'stop';

export function afterFailedAttempt(err: unknown): AttemptDecision {
  // A target with no room for one more adapter is not failing: another target is tried at once.
  if (err instanceof ApiError && err.code === ERROR_CODES.adapterCapacity) return 'other_target';
  return err instanceof UpstreamError && err.retryable ? 'retry' : 'stop';
}

/** Upstream failures and timeouts move on to fallbacks (and count against the target); a client's own mistake (4xx) does not. */
export function isFallbackWorthy(err: unknown): boolean {
  if (err instanceof UpstreamError) return err.retryable || err.status >= 500;
  return err instanceof ApiError ? err.status >= 500 : true;
}

/** What the client sees once everything was tried: 4xx as the upstream said, 429 kept, other failures 502. */
export function finalError(err: unknown): unknown {
  if (!(err instanceof UpstreamError) || !err.retryable) return err;
  if (err.status === 429) {
    const retryAfter: Record<string, string> = err.retryAfterMs !== undefined ? { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) } : {};
    return new ApiError({ status: 429, message: err.message, type: 'rate_limit_error', code: ERROR_CODES.upstreamRateLimited, headers: retryAfter });
  }
  return new ApiError({ status: 502, message: `${err.message} (gave up after retries)`, code: err.code ?? ERROR_CODES.upstreamError });
}

/** The `kind` label an upstream failure counts as in the metrics: short and stable. */
export type UpstreamErrorKind = 'timeout' | 'connect' | 'invalid_reply' | 'rate_limited' | '5xx' | '4xx' | 'other';

export function errorKind(err: unknown): UpstreamErrorKind {
  const e = err as { status?: number; code?: string | null };
  if (e?.code === ERROR_CODES.upstreamTimeout) return 'timeout';
  if (e?.code === ERROR_CODES.upstreamUnavailable) return 'connect';
  if (e?.code === ERROR_CODES.upstreamInvalidReply) return 'invalid_reply';
  if (typeof e?.status === 'number') return e.status === 429 ? 'rate_limited' : e.status >= 500 ? '5xx' : '4xx';
  return 'other';
}
