import { ERROR_CODES, type ErrorCode } from './error-codes.js';

/** The OpenAI error object every non-422 error body carries. */
export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/**
 * The one error vocabulary of the service: anything thrown on the request path that a
 * client should see as something other than a 500 is one of these.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: ErrorCode | null = null,
    readonly param: string | null = null,
    /** Extra response headers (Retry-After, WWW-Authenticate, …). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class AuthenticationError extends ApiError {
  constructor(message = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".') {
    super(401, message, 'authentication_error', ERROR_CODES.invalidApiKey, null, { 'www-authenticate': 'Bearer' });
  }
}

export class PermissionError extends ApiError {
  constructor(message: string) {
    super(403, message, 'permission_error', ERROR_CODES.modelNotAllowed, 'model');
  }
}

export class UnknownModelError extends ApiError {
  constructor(model: string, hint?: string) {
    super(
      404,
      `The model '${model}' does not exist or you do not have access to it.${hint ? ` ${hint}` : ''}`,
      'invalid_request_error',
      ERROR_CODES.modelNotFound,
      'model',
    );
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, headers: Record<string, string>) {
    super(429, message, 'rate_limit_error', ERROR_CODES.rateLimitExceeded, null, headers);
  }
}

export class OverloadedError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super(503, message, 'server_error', ERROR_CODES.overloaded, null, { 'retry-after': String(retryAfterSeconds), ...headers });
  }
}

/** The upstream did not answer within its deadline. */
export class UpstreamTimeoutError extends ApiError {
  constructor(provider: string, timeoutMs: number) {
    super(504, `The upstream '${provider}' did not answer within ${timeoutMs} ms.`, 'server_error', ERROR_CODES.upstreamTimeout);
  }
}

/** What an upstream failure is, by name (as Vercel's `APICallError` takes it). */
export interface UpstreamErrorOptions {
  provider: string;
  /** The status the client gets if this error reaches it as it is. */
  status: number;
  message: string;
  /** Whether another try (and, failing that, a fallback) may succeed; see upstream-error-policy.ts. */
  retryable: boolean;
  /** The upstream's own error body, passed through to the client for 4xx answers. */
  body?: unknown;
  /** Milliseconds the upstream asked us to wait (Retry-After), when it did. */
  retryAfterMs?: number;
  code?: ErrorCode;
}

/**
 * An upstream failed. `retryable` drives retries and fallbacks; `body` is the upstream's own
 * error body, passed through to the client for 4xx answers.
 */
export class UpstreamError extends ApiError {
  readonly provider: string;
  readonly retryable: boolean;
  readonly body?: unknown;
  readonly retryAfterMs?: number;

  constructor(options: UpstreamErrorOptions) {
    const { provider, status, message, retryable, body, retryAfterMs, code = ERROR_CODES.upstreamError } = options;
    super(status, message, status >= 500 ? 'server_error' : 'invalid_request_error', code);
    this.provider = provider;
    this.retryable = retryable;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}
