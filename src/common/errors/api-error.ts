import { ERROR_CODES, type ErrorCode } from './error-codes.js';

/** The OpenAI error object every non-422 error body carries. */
export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** What an error the client sees is, by name. */
export interface ApiErrorOptions {
  status: number;
  message: string;
  /** OpenAI's error type; by default `server_error` for 5xx, `invalid_request_error` otherwise. */
  type?: string;
  code?: ErrorCode | null;
  /** The request field at fault. */
  param?: string | null;
  /** Extra response headers (Retry-After, WWW-Authenticate, …). */
  headers?: Record<string, string>;
}

/**
 * The one error vocabulary of the service: anything thrown on the request path that a
 * client should see as something other than a 500 is one of these.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: ErrorCode | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor({ status, message, type, code = null, param = null, headers = {} }: ApiErrorOptions) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.type = type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    this.code = code;
    this.param = param;
    this.headers = headers;
  }
}

export class AuthenticationError extends ApiError {
  constructor(message = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".') {
    super({ status: 401, message, type: 'authentication_error', code: ERROR_CODES.invalidApiKey, headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class PermissionError extends ApiError {
  constructor(message: string) {
    super({ status: 403, message, type: 'permission_error', code: ERROR_CODES.modelNotAllowed, param: 'model' });
  }
}

export class UnknownModelError extends ApiError {
  constructor(model: string, hint?: string) {
    super({
      status: 404,
      message: `The model '${model}' does not exist or you do not have access to it.${hint ? ` ${hint}` : ''}`,
      code: ERROR_CODES.modelNotFound,
      param: 'model',
    });
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, headers: Record<string, string>) {
    super({ status: 429, message, type: 'rate_limit_error', code: ERROR_CODES.rateLimitExceeded, headers });
  }
}

export class OverloadedError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super({ status: 503, message, code: ERROR_CODES.overloaded, headers: { 'retry-after': String(retryAfterSeconds), ...headers } });
  }
}

/** The upstream did not answer within its deadline. */
export class UpstreamTimeoutError extends ApiError {
  constructor(provider: string, timeoutMs: number) {
    super({ status: 504, message: `The upstream '${provider}' did not answer within ${timeoutMs} ms.`, code: ERROR_CODES.upstreamTimeout });
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
    super({ status, message, code });
    this.provider = provider;
    this.retryable = retryable;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}
