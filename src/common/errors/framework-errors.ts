import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CODES } from './error-codes.js';
import { errorBody } from './error-mapper.js';

/** HTTP the parser cannot read (oversized headers, garbage): an OpenAI error body, then the connection closes. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'Request headers are too large.' : status === 408 ? 'The request did not arrive in time.' : 'Malformed HTTP request.';
  const code = status === 431 ? ERROR_CODES.headersTooLarge : status === 408 ? ERROR_CODES.requestTimeout : ERROR_CODES.badRequest;
  const body = JSON.stringify(errorBody(status, message, undefined, code));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Fastify's own refusals before a route runs, in the service's error body. A path that cannot be
 * decoded (`/%ZZ`) matches no route: `404 Not Found`, as FastAPI answers it.
 */
export function answerFrameworkError(err: { statusCode?: number; message: string; code?: string }, _req: unknown, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') {
    reply
      .code(404)
      .type('application/json')
      .send(errorBody(404, 'Not Found', undefined, ERROR_CODES.notFound));
    return;
  }
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 400;
  reply
    .code(status)
    .type('application/json')
    .send(errorBody(status, err.message, undefined, status === 400 ? ERROR_CODES.badRequest : null));
}
