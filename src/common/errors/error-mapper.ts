import { HttpException } from '@nestjs/common';
import { ApiError, OpenAiErrorObject, UpstreamError } from './api-error.js';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { RequestValidationError } from './validation-error.js';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
};

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ERROR_CODES.badRequest,
  404: ERROR_CODES.notFound,
  405: ERROR_CODES.methodNotAllowed,
  408: ERROR_CODES.requestTimeout,
  413: ERROR_CODES.payloadTooLarge,
  415: ERROR_CODES.unsupportedMediaType,
  431: ERROR_CODES.headersTooLarge,
};

/** FastAPI's `detail` string and OpenAI's `error` object, side by side. */
export function errorBody(status: number, message: string, type?: string, code: ErrorCode | null = null, param: string | null = null) {
  const error: OpenAiErrorObject = { message, type: type ?? TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param, code };
  return { detail: message, error };
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Maps anything thrown on the request path to the response a client sees. Pure: no I/O, no logging.
 * Unknown errors become a 500 that says nothing of their internals.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof RequestValidationError) {
    return { status: 422, headers: {}, body: { detail: err.detail } };
  }
  if (err instanceof UpstreamError && err.status < 500 && err.body && typeof err.body === 'object' && !Array.isArray(err.body)) {
    const upstream = err.body as Record<string, unknown>;
    return { status: err.status, headers: {}, body: { detail: err.message, ...upstream } };
  }
  if (err instanceof ApiError) {
    return { status: err.status, headers: err.headers, body: errorBody(err.status, err.message, err.type, err.code, err.param) };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    const message = typeof res === 'string' ? res : String((res as { message?: unknown }).message ?? err.message);
    return { status, headers: {}, body: errorBody(status, message, undefined, CODE_BY_STATUS[status] ?? null) };
  }
  const fw = err as FrameworkError | null;
  if (fw && typeof fw.statusCode === 'number' && fw.statusCode >= 400 && fw.statusCode < 500) {
    return { status: fw.statusCode, headers: {}, body: errorBody(fw.statusCode, fw.message ?? 'Bad request', undefined, CODE_BY_STATUS[fw.statusCode] ?? null) };
  }
  return { status: 500, headers: {}, body: errorBody(500, 'Internal server error', 'server_error', ERROR_CODES.internalError) };
}
