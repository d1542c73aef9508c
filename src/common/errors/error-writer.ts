import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';
import { toErrorResponse } from './error-mapper.js';
import { RequestValidationError } from './validation-error.js';

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
  reply.status(status).headers(headers).type('application/json').send(safeStringify(body, status));
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
      return JSON.stringify({ detail: 'Request could not be processed', error: { message: 'Request could not be processed', type: 'invalid_request_error', param: null, code: String(status) } });
    }
  }
}
