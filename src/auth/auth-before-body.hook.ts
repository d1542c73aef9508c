import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import type { Logger } from '@nestjs/common';
import { sendError } from '../common/errors/error-writer.js';
import type { BearerAuthenticator } from './bearer.authenticator.js';

/** Methods whose body Fastify never reads, and CORS preflights (which carry no credentials). */
const NO_BODY = new Set(['GET', 'HEAD', 'TRACE', 'OPTIONS']);
/** A refused body larger than this is not read to the end: the connection closes after the answer. */
const LINGER_BYTES = 64 * 1024;

/**
 * Authenticates a request that may carry a body from its headers, in its route's `onRequest`: an
 * unauthenticated one is answered `401` before a byte of its body is read or buffered. The hook is
 * added to each route that takes a body and is not @Public() as the route is registered, so other
 * routes (and unknown paths: a 404 needs no key, as in FastAPI) pay nothing.
 */
export function registerAuthBeforeBody(fastify: FastifyInstance, authenticator: BearerAuthenticator, logger: Logger): void {
  const refuse = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > LINGER_BYTES || req.headers['transfer-encoding'] !== undefined) reply.header('connection', 'close');
    sendError(reply, err, logger);
  };
  const hook = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // A known API key, the common case, is settled without a promise.
    const caller = authenticator.knownApiKey(req.headers.authorization);
    if (caller) {
      req.caller = caller;
      return done();
    }
    authenticator.authenticate(req.headers.authorization).then(
      (found) => {
        req.caller = found;
        done();
      },
      (err: unknown) => refuse(req, reply, err),
    );
  };
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (Reflect.get(route.config ?? {}, 'public') === true || methods.every((m) => NO_BODY.has(m))) return;
    route.onRequest = [...(route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]), hook];
  });
}
