import { Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ApiKeyStore } from './api-key.store.js';
import { authConfig } from './auth.config.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { BearerAuthenticator } from './bearer.authenticator.js';
import { BearerStrategy, JWT_VERIFIER } from './bearer.strategy.js';
import { JwtVerifier } from './jwt.verifier.js';
import { KeySourceService } from './key-source.service.js';

async function jwtVerifierFactory(config: ConfigType<typeof authConfig>): Promise<JwtVerifier | null> {
  if (!config.AUTH_JWT_JWKS_URL && !config.AUTH_JWT_PUBLIC_KEY) return null;
  return JwtVerifier.create({
    jwksUrl: config.AUTH_JWT_JWKS_URL,
    publicKeyPem: config.AUTH_JWT_PUBLIC_KEY,
    issuer: config.AUTH_JWT_ISSUER!,
    audience: config.AUTH_JWT_AUDIENCE!,
  });
}

@Module({
  imports: [PassportModule, ConfigModule.forFeature(authConfig)],
  providers: [
    ApiKeyStore,
    KeySourceService,
    { provide: JWT_VERIFIER, useFactory: jwtVerifierFactory, inject: [authConfig.KEY] },
    BearerStrategy,
    BearerAuthenticator,
    { provide: APP_GUARD, useClass: BearerAuthGuard },
  ],
  exports: [ApiKeyStore, KeySourceService, BearerAuthenticator],
})
export class AuthModule {}
