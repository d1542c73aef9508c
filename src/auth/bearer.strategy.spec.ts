import { Strategy } from 'passport-http-bearer';
import { ApiKeyStore, sha256 } from './api-key.store.js';
import { BearerStrategy } from './bearer.strategy.js';
import type { Caller } from './caller.js';
import type { JwtVerifier } from './jwt.verifier.js';

/** What passport-http-bearer itself makes of a header: the caller it accepts, or null. */
function passportAccepts(store: ApiKeyStore, authorization: string | undefined): Promise<Caller | null> {
  const strategy = new Strategy((token: string, done: (err: unknown, user?: Caller | false) => void) => {
    const caller = store.lookup(token);
    done(null, caller && caller !== 'disabled' ? caller : false);
  }) as unknown as { authenticate(req: unknown): void } & Record<string, unknown>;
  return new Promise((resolve) => {
    Object.assign(strategy, { success: (user: Caller) => resolve(user), fail: () => resolve(null), error: () => resolve(null) });
    strategy.authenticate({ headers: authorization === undefined ? {} : { authorization } });
  });
}

describe('BearerStrategy.knownApiKey', () => {
  const store = new ApiKeyStore();
  const alice: Caller = { name: 'alice' };
  store.replace([
    { sha256: sha256('sk-alice'), caller: alice },
    { sha256: sha256('sk-off'), caller: { name: 'off' }, disabled: true },
    { sha256: sha256('eyJa.b.c'), caller: { name: 'jwt-shaped' } },
  ]);

  it('accepts exactly the headers passport-http-bearer accepts for a known, enabled key', async () => {
    const strategy = new BearerStrategy(store, null);
    const headers = [
      undefined,
      '',
      'Bearer sk-alice',
      'bearer sk-alice',
      'BEARER sk-alice',
      'Bearer  sk-alice',
      ' Bearer sk-alice',
      'Bearer sk-alice ',
      'Bearer sk-alice x',
      'Bearer',
      'Bearer ',
      'Basic sk-alice',
      'Bearer\tsk-alice',
      'Bearer sk-off',
      'Bearer sk-unknown',
      'Bearer eyJa.b.c',
      'Bearers sk-alice',
    ];
    for (const header of headers) {
      expect({ header, caller: strategy.knownApiKey(header) }).toEqual({ header, caller: await passportAccepts(store, header) });
    }
    expect(strategy.knownApiKey('Bearer sk-alice')).toBe(alice);
  });

  it('leaves JWT-shaped tokens to passport when JWTs are on', () => {
    const strategy = new BearerStrategy(store, {} as JwtVerifier);
    expect(strategy.knownApiKey('Bearer eyJa.b.c')).toBeNull();
    expect(strategy.knownApiKey('Bearer sk-alice')).toBe(alice);
  });
});
