import { Inject, Injectable } from '@nestjs/common';
import passport from 'passport';
import { ApiError, AuthenticationError } from '../common/errors/api-error.js';
import { isPythonSpace, pythonStrip } from '../common/text/python-space.js';
import type { Caller } from './caller.js';
import { BearerStrategy } from './bearer.strategy.js';

/**
 * Who a request's `Authorization` header names, from the header alone. A known API key, the common
 * case, is accepted by the strategy's own lookup without passport's per-request machinery (which
 * cost more than the rest of the request's handling); JWTs and every refusal go through passport.
 */
@Injectable()
export class BearerAuthenticator {
  constructor(@Inject(BearerStrategy) private readonly strategy: BearerStrategy) {}

  /** The caller of a known, enabled API key, without a promise; null for anything else. */
  knownApiKey(authorization: string | undefined): Caller | null {
    return this.strategy.knownApiKey(asFastApiReadsIt(authorization));
  }

  authenticate(header: string | undefined): Promise<Caller> {
    const authorization = asFastApiReadsIt(header);
    const caller = this.strategy.knownApiKey(authorization);
    if (caller) return Promise.resolve(caller);
    // Passport sees only the header, so a body or query field named `access_token` stays a pass-through field.
    const request = { headers: authorization === undefined ? {} : { authorization } };
    return new Promise((resolve, reject) => {
      const run = passport.authenticate('bearer', { session: false }, (err: unknown, user: Caller | false) => {
        if (err instanceof ApiError) reject(err);
        else if (err || !user) reject(new AuthenticationError());
        else resolve(user);
      }) as (req: unknown, res: unknown, next: (err: unknown) => void) => void;
      run(request, {}, (err: unknown) => reject(err instanceof ApiError ? err : new AuthenticationError()));
    });
  }
}

/**
 * The header as FastAPI's `HTTPBearer` reads it: the scheme up to the first space, the credentials
 * after it with white space stripped from both ends (`Bearer  <key>` is `Bearer <key>`). The header
 * itself when nothing needs stripping, which is the common case and costs no allocation.
 */
export function asFastApiReadsIt(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  if (space === -1) return authorization;
  if (!isPythonSpace(authorization.charCodeAt(space + 1)) && !isPythonSpace(authorization.charCodeAt(authorization.length - 1))) return authorization;
  return `${authorization.slice(0, space)} ${pythonStrip(authorization.slice(space + 1))}`;
}
