import { RateLimitError } from '../common/errors/api-error.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/** Over `rpm` or `tpm` for now: 429 with Retry-After and OpenAI's headers. */
export function limitReached(dimension: 'requests' | 'tokens', limit: number, windowSeconds: number, msBeforeNext: number): RateLimitError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new RateLimitError(`Rate limit reached for ${dimension} per ${windowSeconds} s (limit ${limit}). Retry after ${retryAfter} s.`, {
    'retry-after': String(retryAfter),
    ...rateLimitHeaders(dimension, limit, 0, msBeforeNext),
  });
}

/** OpenAI's "Request too large": a prompt that can never fit `tpm`, so no Retry-After. */
export function requestTooLarge(tpm: number, prompt: number, windowSeconds: number): RateLimitError {
  return new RateLimitError(
    `Request too large for tokens per ${windowSeconds} s: limit ${tpm}, requested ${prompt} (the prompt's estimate). The input must be reduced in order to run successfully.`,
    { 'x-ratelimit-limit-tokens': String(tpm) },
  );
}
