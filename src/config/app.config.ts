import { registerAs } from '@nestjs/config';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { validateEnv } from './env-validation.js';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Environment variables of the HTTP server itself. */
export class AppEnv {
  /** TCP port to listen on. */
  @IsOptional() @Transform(toInt) @IsInt({ message: 'PORT must be an integer from 0 to 65535' }) @Min(0, { message: 'PORT must be an integer from 0 to 65535' }) @Max(65535, { message: 'PORT must be an integer from 0 to 65535' })
  PORT = 8000;

  /** Address to bind. */
  @IsOptional() @IsString() @MinLength(1)
  HOST = '0.0.0.0';

  /** Largest accepted request body, in bytes. */
  @IsOptional() @Transform(toInt) @IsInt({ message: 'MAX_BODY_BYTES must be a whole number of bytes' }) @Min(1024)
  MAX_BODY_BYTES = 10 * 1024 * 1024;

  /** YAML file of providers and models; without it the built-in `echo` model is served. */
  @IsOptional() @IsString()
  CONFIG_FILE?: string;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent' })
  LOG_LEVEL = 'info';
}

export const appConfig = registerAs('app', () => validateEnv(AppEnv, process.env));
