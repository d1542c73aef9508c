import { registerAs } from '@nestjs/config';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { validateEnv } from '../config/env-validation.js';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

export class RateLimitEnv {
  /** Shared counters for every replica; without it, counters live in this process. */
  @IsOptional()
  @IsString()
  REDIS_URL?: string;

  /** What to do when Redis cannot be reached: let requests through, or refuse them. */
  @IsOptional()
  @IsIn(['allow', 'deny'], { message: 'RATE_LIMIT_ON_STORE_ERROR must be allow or deny' })
  RATE_LIMIT_ON_STORE_ERROR: 'allow' | 'deny' = 'allow';

  /** The window of `rpm` and `tpm`, in seconds (a minute unless changed). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RATE_LIMIT_WINDOW_SECONDS must be a whole number of seconds' })
  @Min(1, { message: 'RATE_LIMIT_WINDOW_SECONDS must be at least 1' })
  RATE_LIMIT_WINDOW_SECONDS: number = 60;

  /**
   * The output a request without `max_completion_tokens`/`max_tokens` reserves against `tpm` until
   * its usage is known (capped at `tpm` minus its prompt, so it fits an empty window).
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RATE_LIMIT_COMPLETION_RESERVE_TOKENS must be a whole number of tokens' })
  @Min(0, { message: 'RATE_LIMIT_COMPLETION_RESERVE_TOKENS must be at least 0' })
  RATE_LIMIT_COMPLETION_RESERVE_TOKENS: number = 1024;
}

export const rateLimitConfig = registerAs('rateLimit', () => validateEnv(RateLimitEnv, process.env));
