import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { AuthenticationError } from '../common/errors/api-error.js';
import { ApiKeyStore } from './api-key.store.js';
import type { Caller } from './caller.js';
import { JwtVerifier, looksLikeJwt } from './jwt.verifier.js';

export const JWT_VERIFIER = Symbol('JwtVerifier');

const BEARER = /^Bearer$/i;

/** passport-http-bearer: `Authorization: Bearer <key or JWT>` mapped to a Caller. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(JWT_VERIFIER) private readonly jwt: JwtVerifier | null,
  ) {
    super();
  }

  /**
   * The caller of a known, enabled API key in an `Authorization` header read as passport-http-bearer
   * reads it (`Bearer <token>`, one space, scheme in any case); null for anything else (a JWT,
   * an unknown or disabled key, a malformed header), which passport then answers.
   */
  knownApiKey(authorization: string | undefined): Caller | null {
    if (!authorization) return null;
    const space = authorization.indexOf(' ');
    if (space === -1 || authorization.indexOf(' ', space + 1) !== -1 || !BEARER.test(authorization.slice(0, space))) return null;
    const token = authorization.slice(space + 1);
    if (!token || (this.jwt && looksLikeJwt(token))) return null;
    const caller = this.keys.lookup(token);
    return caller === 'disabled' ? null : caller;
  }

  async validate(token: string): Promise<Caller> {
    if (this.jwt && looksLikeJwt(token)) return this.jwt.verify(token);
    const caller = this.keys.lookup(token);
    if (caller === 'disabled') throw new AuthenticationError('This API key is disabled.');
    if (!caller) throw new AuthenticationError();
    return caller;
  }
}
