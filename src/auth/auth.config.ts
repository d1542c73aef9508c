import { registerAs } from '@nestjs/config';
import { IsIn, IsOptional, IsString, IsUrl, ValidateIf } from 'class-validator';
import { validateEnv } from '../config/env-validation.js';

export class AuthEnv {
  /** Comma-separated plain API keys (development). */
  @IsOptional()
  @IsString()
  API_KEYS?: string;

  /** YAML file of `{name, sha256, models, rpm, tpm, disabled}` entries; re-read on change or SIGHUP. */
  @IsOptional()
  @IsString()
  API_KEYS_FILE?: string;

  /** Watch API_KEYS_FILE for changes (`false` where the filesystem cannot be watched: reload with SIGHUP). */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'API_KEYS_FILE_WATCH must be true or false' })
  API_KEYS_FILE_WATCH: 'true' | 'false' = 'true';

  /** JWKS endpoint of the platform's identity service, for bearer tokens that are JWTs. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'AUTH_JWT_JWKS_URL must be an http(s) URL' })
  AUTH_JWT_JWKS_URL?: string;

  /** A PEM public key (RSA, EC P-256 or Ed25519), instead of a JWKS endpoint. */
  @IsOptional()
  @IsString()
  AUTH_JWT_PUBLIC_KEY?: string;

  @ValidateIf((env: AuthEnv) => !!(env.AUTH_JWT_JWKS_URL || env.AUTH_JWT_PUBLIC_KEY))
  @IsString({ message: 'AUTH_JWT_ISSUER is required when JWT verification is configured' })
  AUTH_JWT_ISSUER?: string;

  @ValidateIf((env: AuthEnv) => !!(env.AUTH_JWT_JWKS_URL || env.AUTH_JWT_PUBLIC_KEY))
  @IsString({ message: 'AUTH_JWT_AUDIENCE is required when JWT verification is configured' })
  AUTH_JWT_AUDIENCE?: string;
}

export const authConfig = registerAs('auth', () => validateEnv(AuthEnv, process.env));
