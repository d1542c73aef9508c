import { HttpException } from '@nestjs/common';
import { ApiError, type OpenAiErrorObject, UpstreamError } from './api-error.js';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { RequestValidationError, type ValidationIssue } from './validation-error.js';

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

/**
 * FastAPI's 422 body, `detail` exactly as pydantic writes it, with OpenAI's `error` beside it: OpenAI
 * clients build their message from `error`, so the first problem is named there, where it is.
 */
export function validationErrorBody(detail: ValidationIssue[]): { detail: ValidationIssue[]; error: OpenAiErrorObject } {
  const first = detail[0];
  if (!first) return { detail, error: { message: 'The request is invalid.', type: 'invalid_request_error', param: null, code: null } };
  const more = detail.length - 1;
  const others = more === 0 ? '' : ` (and ${more} more problem${more === 1 ? '' : 's'})`;
  const error: OpenAiErrorObject = { message: `${describeIssue(first)}${others}`, type: 'invalid_request_error', param: paramOf(first), code: first.type };
  return { detail, error };
}

function describeIssue(issue: ValidationIssue): string {
  if (issue.type === 'json_invalid') {
    const why = typeof issue.ctx?.error === 'string' ? `: ${issue.ctx.error}` : '';
    return `body: JSON decode error at character ${String(issue.loc[1] ?? 0)}${why}`;
  }
  return `${issue.loc.join('.')}: ${issue.msg}`;
}

/** The field a problem is about, as OpenAI writes params (`messages[0].content`); none for the body as a whole. */
function paramOf(issue: ValidationIssue): string | null {
  if (issue.type === 'json_invalid') return null;
  const path = issue.loc[0] === 'body' ? issue.loc.slice(1) : issue.loc;
  let param = '';
  for (const part of path) param += typeof part === 'number' ? `[${part}]` : param ? `.${part}` : part;
  return param || null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * An upstream's 4xx error, its fields kept, as the `error` object OpenAI clients read: from the
 * nested `{error:{…}}` servers write today or the flat `{message, type, code}` older vLLM wrote,
 * with `param` present and `code` a string or null (vLLM and llama.cpp write the status number).
 */
function upstreamErrorObject(body: Record<string, unknown>, message: string, status: number): OpenAiErrorObject {
  const given = isRecord(body.error) ? body.error : body;
  const code = given.code;
  return {
    message: typeof given.message === 'string' && given.message ? given.message : message,
    type: typeof given.type === 'string' && given.type ? given.type : (TYPE_BY_STATUS[status] ?? 'invalid_request_error'),
    param: typeof given.param === 'string' ? given.param : null,
    code: typeof code === 'string' ? code : typeof code === 'number' ? String(code) : null,
  };
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
    return { status: 422, headers: {}, body: validationErrorBody(err.detail) };
  }
  if (err instanceof UpstreamError && err.status < 500 && isRecord(err.body)) {
    const upstream = err.body;
    return { status: err.status, headers: {}, body: { detail: err.message, ...upstream, error: upstreamErrorObject(upstream, err.message, err.status) } };
  }
  if (err instanceof ApiError) {
    return { status: err.status, headers: err.headers, body: errorBody(err.status, err.message, err.type, err.code, err.param) };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    const given = typeof res === 'string' ? res : (res as { message?: unknown }).message;
    // Nest's own exceptions may carry a list of messages; anything else is not shown.
    const message = typeof given === 'string' ? given : Array.isArray(given) && given.every((m) => typeof m === 'string') ? given.join('; ') : err.message;
    return { status, headers: {}, body: errorBody(status, message, undefined, CODE_BY_STATUS[status] ?? null) };
  }
  const fw = err as FrameworkError | null;
  if (fw && typeof fw.statusCode === 'number' && fw.statusCode >= 400 && fw.statusCode < 500) {
    return {
      status: fw.statusCode,
      headers: {},
      body: errorBody(fw.statusCode, fw.message ?? 'Bad request', undefined, CODE_BY_STATUS[fw.statusCode] ?? null),
    };
  }
  return { status: 500, headers: {}, body: errorBody(500, 'Internal server error', 'server_error', ERROR_CODES.internalError) };
}
