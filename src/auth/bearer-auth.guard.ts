import { ExecutionContext, Inject, Injectable, type CanActivate } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { BearerAuthenticator } from './bearer.authenticator.js';
import type { Caller } from './caller.js';
import { IS_PUBLIC } from './public.decorator.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/**
 * The global guard: every route needs a valid bearer key unless marked @Public(). A request with a
 * body was already authenticated before its body was read (the auth hook); the guard covers the
 * rest (GET routes) with the same authenticator, passport's bearer strategy behind it.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(BearerAuthenticator) private readonly authenticator: BearerAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // Already authenticated before the body (the common case): no promise on the way.
    if (request.caller) return true;
    return this.authenticator.authenticate(request.headers.authorization).then((caller) => {
      request.caller = caller;
      return true;
    });
  }
}
