import { errors as undiciErrors } from 'undici';
import { ApiError, UpstreamError, UpstreamTimeoutError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isCredentialFailure, isRetryableStatus } from '../../common/errors/upstream-error-policy.js';

const MAX_RETRY_AFTER_MS = 60_000;

/** `Retry-After` (seconds or an HTTP date) as milliseconds, capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** The message inside an OpenAI- or Anthropic-shaped error body, if there is one. */
function messageOf(body: unknown): string | undefined {
  const top = (body as { message?: unknown } | null)?.message;
  if (typeof top === 'string') return top;
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** Upstream text with the service's own secrets (the provider's key) cut out, before any client sees it. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8 && out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * An upstream's HTTP error answer as an UpstreamError: 4xx bodies pass through (the provider's key cut
 * out), the rest is retryable. An upstream 401/403 is the service's credentials failing, not the
 * client's: it becomes a 502.
 */
/** An upstream's reply the service cannot use (not JSON, cut short, too large): a 502, never retried. */
export function invalidReplyError(provider: string, what: string): UpstreamError {
  return new UpstreamError({
    provider,
    status: 502,
    message: `The upstream '${provider}' reply ${what}.`,
    retryable: false,
    code: ERROR_CODES.upstreamInvalidReply,
  });
}

export function upstreamErrorFromResponse(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  rawText: string,
  secrets: readonly string[] = [],
): UpstreamError {
  const text = redactSecrets(rawText, secrets);
  if (isCredentialFailure(status)) {
    const message = `The upstream '${provider}' refused the service's credentials (${status}); check the provider's apiKey.`;
    return new UpstreamError({ provider, status: 502, message, retryable: false, code: ERROR_CODES.upstreamAuthFailed });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const message = messageOf(body) ?? `The upstream '${provider}' answered ${status}.`;
  const passBody =
    body && typeof body === 'object' && !Array.isArray(body) ? body : { error: { message, type: 'invalid_request_error', param: null, code: null } };
  return new UpstreamError({
    provider,
    status,
    message,
    retryable: isRetryableStatus(status),
    body: passBody,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
  });
}

/** A whole-reply deadline passed while the body was being read. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('deadline exceeded');
  }
}

/**
 * A transport failure (refused, reset, unreadable) as a retryable 502, a passed deadline as 504.
 * A client abort is returned unchanged: nobody is left to answer.
 */
export function fromTransportError(provider: string, err: unknown, signal: AbortSignal, timeoutMs: number): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof DeadlineExceeded || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError)
    return new UpstreamTimeoutError(provider, timeoutMs);
  if (signal.aborted) return err;
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  const what =
    code === 'ECONNREFUSED' ? 'refused the connection' : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'closed the connection' : 'could not be reached';
  return new UpstreamError({ provider, status: 502, message: `The upstream '${provider}' ${what}.`, retryable: true, code: ERROR_CODES.upstreamUnavailable });
}
