import { registerAs } from '@nestjs/config';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { validateEnv } from './env-validation.js';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Environment variables of the HTTP server itself. */
export class AppEnv {
  /** TCP port to listen on. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer from 0 to 65535' })
  @Min(0, { message: 'PORT must be an integer from 0 to 65535' })
  @Max(65535, { message: 'PORT must be an integer from 0 to 65535' })
  PORT = 8000;

  /** Address to bind. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  /** Largest accepted request body, in bytes. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'MAX_BODY_BYTES must be a whole number of bytes' })
  @Min(1024)
  MAX_BODY_BYTES = 10 * 1024 * 1024;

  /**
   * Bytes of request bodies held at once across all in-flight requests (from the first byte read
   * until the response ends); a body that would go past it gets `503` with `Retry-After`.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'MAX_BUFFERED_BODY_BYTES must be a whole number of bytes' })
  @Min(1024)
  MAX_BUFFERED_BODY_BYTES = 256 * 1024 * 1024;

  /** Open client connections at most; connections beyond it are closed at once. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'MAX_CONNECTIONS must be a whole number' })
  @Min(1)
  MAX_CONNECTIONS = 4096;

  /** YAML file of providers and models; without it the built-in `echo` model is served. */
  @IsOptional()
  @IsString()
  CONFIG_FILE?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent' })
  LOG_LEVEL = 'info';

  /** Log prompts and replies in the request line (off: they may hold personal data). */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'LOG_BODIES must be true or false' })
  LOG_BODIES: 'true' | 'false' = 'false';

  /** With LOG_BODIES, the most characters of the prompt and of the reply a log line keeps (each). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'LOG_BODY_MAX_CHARS must be a whole number' })
  @Min(0)
  LOG_BODY_MAX_CHARS = 16_384;

  /** On SIGTERM, how long in-flight requests and streams may take to finish before the process exits. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'SHUTDOWN_GRACE_MS must be a whole number of milliseconds' })
  @Min(0)
  SHUTDOWN_GRACE_MS = 30_000;

  /** Time a client has to send its request headers (slow-loris guard). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'HEADERS_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(1000)
  HEADERS_TIMEOUT_MS = 10_000;

  /** Time a client has to send its whole request (headers and body). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'REQUEST_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(1000)
  REQUEST_TIMEOUT_MS = 60_000;

  /** How long an idle keep-alive connection stays open (above a load balancer's idle timeout). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(1000)
  KEEP_ALIVE_TIMEOUT_MS = 72_000;

  /** Comma-separated origins allowed by CORS (`*` for any); CORS is off without it. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  /** GET /metrics is served only when this is set, and then needs `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @IsString()
  METRICS_TOKEN?: string;

  /** How long a readiness result is reused, so probes cost nothing. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'HEALTH_CACHE_MS must be a whole number of milliseconds' })
  @Min(0)
  HEALTH_CACHE_MS = 2000;
}

export const appConfig = registerAs('app', () => validateEnv(AppEnv, process.env));
