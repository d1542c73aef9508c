import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { AuthenticationError } from '../common/errors/api-error.js';
import { ApiKeyStore } from './api-key.store.js';
import type { Caller } from './caller.js';

/** passport-http-bearer: `Authorization: Bearer <key>` mapped to a Caller. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(@Inject(ApiKeyStore) private readonly keys: ApiKeyStore) {
    super();
  }

  validate(token: string): Caller {
    const caller = this.keys.lookup(token);
    if (caller === 'disabled') throw new AuthenticationError('This API key is disabled.');
    if (!caller) throw new AuthenticationError();
    return caller;
  }
}
