import { Logger, Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ApiKeyStore, generateApiKey, sha256 } from './api-key.store.js';
import { authConfig } from './auth.config.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { BearerStrategy } from './bearer.strategy.js';

/** Keys from API_KEYS; with none configured, one is generated and printed once, so the service never runs open. */
function keyStoreFactory(config: ConfigType<typeof authConfig>): ApiKeyStore {
  const store = new ApiKeyStore();
  const keys = (config.API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.length === 0) {
    const key = generateApiKey();
    keys.push(key);
    process.stdout.write(`No API_KEYS configured: generated this key for this run (shown once):\n  ${key}\n`);
  }
  store.replace(keys.map((k, i) => ({ sha256: sha256(k), caller: { name: `key-${i + 1}` } })));
  new Logger('Auth').log(`Accepting ${store.size} API key(s)`);
  return store;
}

@Module({
  imports: [PassportModule, ConfigModule.forFeature(authConfig)],
  providers: [
    { provide: ApiKeyStore, useFactory: keyStoreFactory, inject: [authConfig.KEY] },
    BearerStrategy,
    { provide: APP_GUARD, useClass: BearerAuthGuard },
  ],
  exports: [ApiKeyStore],
})
export class AuthModule {}
