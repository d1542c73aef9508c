import { ArgumentsHost, Catch, ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { ERROR_CODES } from './error-codes.js';
import { sendError } from './error-writer.js';

/** The one global filter: every error leaves as FastAPI's `detail` plus OpenAI's `error`. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    sendError(reply, routingError(http.getRequest<FastifyRequest>(), exception) ?? exception, this.logger);
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * No route for the request, answered as FastAPI writes it: a path that exists asked with a method it
 * does not take is `405 Method Not Allowed` with `Allow`; any other is `404 Not Found`.
 */
function routingError(request: FastifyRequest | undefined, exception: unknown): ApiError | undefined {
  if (!(exception instanceof NotFoundException)) return undefined;
  const notFound = new ApiError({ status: 404, message: 'Not Found', code: ERROR_CODES.notFound });
  if (!request?.server) return notFound;
  const url = request.url.split('?', 1)[0];
  const allowed = METHODS.filter((method) => method !== request.method && request.server.hasRoute({ method, url }));
  if (allowed.length === 0) return notFound;
  return new ApiError({ status: 405, message: 'Method Not Allowed', code: ERROR_CODES.methodNotAllowed, headers: { allow: allowed.join(', ') } });
}
