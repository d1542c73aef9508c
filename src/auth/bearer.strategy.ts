import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { AuthenticationError } from '../common/errors/api-error.js';
import { ApiKeyStore } from './api-key.store.js';
import type { Caller } from './caller.js';
import { JwtVerifier, looksLikeJwt } from './jwt.verifier.js';

export const JWT_VERIFIER = Symbol('JwtVerifier');

/** passport-http-bearer: `Authorization: Bearer <key or JWT>` mapped to a Caller. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(JWT_VERIFIER) private readonly jwt: JwtVerifier | null,
  ) {
    super();
  }

  async validate(token: string): Promise<Caller> {
    if (this.jwt && looksLikeJwt(token)) return this.jwt.verify(token);
    const caller = this.keys.lookup(token);
    if (caller === 'disabled') throw new AuthenticationError('This API key is disabled.');
    if (!caller) throw new AuthenticationError();
    return caller;
  }
}
