import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ApiError, AuthenticationError } from '../common/errors/api-error.js';
import type { Caller } from './caller.js';
import { BearerStrategy } from './bearer.strategy.js';
import { IS_PUBLIC } from './public.decorator.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/**
 * The global guard: every route needs a valid bearer key unless marked @Public().
 * Passport sees only the request's headers, so a body or query field named `access_token`
 * (which passport-http-bearer would also read) stays an ordinary pass-through field.
 * A known API key, the common case, is accepted by the strategy's own lookup without passport's
 * per-request machinery (which cost more than the rest of the request's handling); JWTs and every
 * refusal go through passport.
 */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(BearerStrategy) private readonly strategy: BearerStrategy,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = this.strategy.knownApiKey(request.headers.authorization);
    if (!caller) return super.canActivate(context);
    request.caller = caller;
    return true;
  }

  override getRequest(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return { headers: request.headers };
  }

  override handleRequest<TUser = Caller>(err: unknown, user: TUser | false, _info: unknown, context: ExecutionContext): TUser {
    if (err instanceof ApiError) throw err;
    if (err || !user) throw new AuthenticationError();
    context.switchToHttp().getRequest<FastifyRequest>().caller = user as unknown as Caller;
    return user;
  }
}
