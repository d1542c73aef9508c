import { registerAs } from '@nestjs/config';
import { IsOptional, IsString } from 'class-validator';
import { validateEnv } from '../config/env-validation.js';

export class AuthEnv {
  /** Comma-separated plain API keys (development). */
  @IsOptional() @IsString()
  API_KEYS?: string;
}

export const authConfig = registerAs('auth', () => validateEnv(AuthEnv, process.env));
