import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';
import { toErrorResponse } from './error-mapper.js';
import { pythonValueAt, readAsPython, stringifyPython } from '../json/python-json.js';
import { RequestValidationError, type ValidationIssue } from './validation-error.js';

/**
 * The one place an error becomes a reply: FastAPI's `detail` plus OpenAI's `error`, with its status
 * and headers. A stream that already began ends its failure through `SseWriter.fail` with
 * {@link streamErrorEvent}; should an error still reach here once headers left, nothing more can be
 * said in HTTP, so the connection is closed: the client sees a failure, never a truncated success.
 */
export function sendError(reply: FastifyReply, exception: unknown, logger: Logger): void {
  const { status, headers, body } = describeError(exception, logger);
  if (reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  if (reply.sent) return;
  const raw = exception instanceof RequestValidationError ? reply.request?.rawBody : undefined;
  const text = (raw !== undefined && echoedAsPython(body, raw)) || safeStringify(body, status);
  reply.status(status).headers(headers).type('application/json').send(text);
}

/** Largest body re-read for a 422's Python echo: reading it blocks the event loop (about 60 ms at this size). */
export const PYTHON_ECHO_MAX_CHARS = 256 * 1024;

/**
 * Text in which Python may read a number or key differently from JavaScript: a fraction or exponent
 * (`1.0`), an integer past 2^53 (16 digits or more), an integer-like key (JavaScript orders those
 * first). Linear: no nested repetition; a match inside a string only costs the re-read.
 */
const PYTHON_READS_DIFFERENTLY = /\d[.eE]|\d{16}|"\d+"\s*:/;

/**
 * A 422 body whose `input`s are echoed as FastAPI echoes them, read from the JSON text the client
 * sent: floats stay floats (`1.0`), integers stay exact past 2^53, keys keep their order. Undefined
 * when the text cannot be read that way (the ordinary serialisation is used).
 */
function echoedAsPython(body: Record<string, unknown>, raw: string): string | undefined {
  // Read again only when Python could read it differently, and only when small enough to read at once.
  if (raw.length > PYTHON_ECHO_MAX_CHARS || !PYTHON_READS_DIFFERENTLY.test(raw)) return undefined;
  try {
    const view = readAsPython(raw);
    const detail = (body.detail as ValidationIssue[]).map((issue) => {
      if (issue.loc[0] !== 'body' || issue.type === 'json_invalid') return issue;
      const path = issue.type === 'missing' ? issue.loc.slice(1, -1) : issue.loc.slice(1);
      const input = pythonValueAt(view, path);
      return input === undefined ? issue : { ...issue, input };
    });
    return stringifyPython({ ...body, detail });
  } catch {
    return undefined;
  }
}

/** The payload of the SSE error event that ends a stream which failed after its first chunk. */
export function streamErrorEvent(exception: unknown, logger: Logger): { error: unknown } {
  const { body } = describeError(exception, logger);
  return { error: body.error ?? body };
}

/** The error's reply; a failure that is not one of ours (a bug) is logged with its stack. */
function describeError(exception: unknown, logger: Logger): ReturnType<typeof toErrorResponse> {
  const response = toErrorResponse(exception);
  if (response.status >= 500 && !(exception instanceof ApiError) && !(exception instanceof RequestValidationError)) {
    logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  }
  return response;
}

/** JSON text of an error body; an input too deep or odd to serialise is dropped, never the whole error. */
function safeStringify(body: Record<string, unknown>, status: number): string {
  try {
    return JSON.stringify(body);
  } catch {
    const detail = Array.isArray(body.detail) ? body.detail.map((d: Record<string, unknown>) => ({ ...d, input: null })) : body.detail;
    try {
      return JSON.stringify({ ...body, detail });
    } catch {
      return JSON.stringify({
        detail: 'Request could not be processed',
        error: { message: 'Request could not be processed', type: 'invalid_request_error', param: null, code: String(status) },
      });
    }
  }
}
