import type { FastifyInstance } from 'fastify';
import type { Logger } from '@nestjs/common';
import { sendError } from '../common/errors/api-exception.filter.js';
import type { BearerAuthenticator } from './bearer.authenticator.js';

/** Methods whose body Fastify never reads, and CORS preflights (which carry no credentials). */
const NO_BODY = new Set(['GET', 'HEAD', 'TRACE', 'OPTIONS']);
/** A refused body larger than this is not read to the end: the connection closes after the answer. */
const LINGER_BYTES = 64 * 1024;

/**
 * Authenticates a request that may carry a body from its headers, in Fastify's `onRequest`: an
 * unauthenticated one is answered `401` before a byte of its body is read or buffered. Public
 * routes and unknown paths (a 404 needs no key, as in FastAPI) are left alone.
 */
export function registerAuthBeforeBody(fastify: FastifyInstance, authenticator: BearerAuthenticator, logger: Logger): void {
  fastify.addHook('onRequest', async (req, reply) => {
    if (NO_BODY.has(req.method) || req.routeOptions.url === undefined || (req.routeOptions.config as { public?: boolean }).public) return;
    try {
      req.caller = await authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > LINGER_BYTES || req.headers['transfer-encoding'] !== undefined) reply.header('connection', 'close');
      sendError(reply, err, logger);
      return reply;
    }
  });
}
