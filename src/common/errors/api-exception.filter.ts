import { ArgumentsHost, Catch, ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { ERROR_CODES } from './error-codes.js';
import { toErrorResponse } from './error-mapper.js';
import { RequestValidationError } from './validation-error.js';

/** The one global filter: every error leaves as FastAPI's `detail` plus OpenAI's `error`. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    sendError(reply, methodNotAllowed(http.getRequest<FastifyRequest>(), exception) ?? exception, this.logger);
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** A path that exists, asked with a method it does not take: FastAPI's 405 with `Allow`, not a 404. */
function methodNotAllowed(request: FastifyRequest | undefined, exception: unknown): ApiError | undefined {
  if (!(exception instanceof NotFoundException) || !request?.server) return undefined;
  const url = request.url.split('?', 1)[0];
  const allowed = METHODS.filter((method) => method !== request.method && request.server.hasRoute({ method, url }));
  if (allowed.length === 0) return undefined;
  return new ApiError(405, 'Method Not Allowed', 'invalid_request_error', ERROR_CODES.methodNotAllowed, null, { allow: allowed.join(', ') });
}

/** Writes an error on a Fastify reply, or as an SSE error event when a stream already began. */
export function sendError(reply: FastifyReply, exception: unknown, logger: Logger): void {
  const { status, headers, body } = describeError(exception, logger);
  const raw = reply.raw;
  if (raw.headersSent) {
    if (!raw.writableEnded && !raw.destroyed) raw.end(`data: ${JSON.stringify(errorEvent(body))}\n\n`);
    return;
  }
  if (reply.sent) return;
  reply.status(status).headers(headers).type('application/json').send(safeStringify(body, status));
}

/** The payload of the SSE error event that ends a stream which failed after its first chunk. */
export function streamErrorEvent(exception: unknown, logger: Logger): { error: unknown } {
  return errorEvent(describeError(exception, logger).body);
}

function errorEvent(body: Record<string, unknown>): { error: unknown } {
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
