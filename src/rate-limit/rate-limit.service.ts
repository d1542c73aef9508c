import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Caller } from '../auth/caller.js';
import { ApiError, RateLimitError } from '../common/errors/api-error.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { rateLimitConfig } from './rate-limit.config.js';

export const REDIS_CLIENT = Symbol('RedisClient');
export const RATE_LIMIT_EVENTS = Symbol('RateLimitEvents');

/** What the limiter reports (metrics listen). */
export interface RateLimitEvents {
  storeError(policy: 'allow' | 'deny'): void;
  limited(dimension: 'requests' | 'tokens'): void;
}

/** An admitted request: the headers to send, and how to settle its real token count afterwards. */
export interface Admission {
  headers: Record<string, string>;
  settle(actualTokens: number): Promise<void>;
}

const NOTHING_TO_SETTLE = async () => undefined;

/**
 * Per-key limits on requests and tokens per window, counted with rate-limiter-flexible in memory or,
 * with REDIS_URL, in Redis so every replica shares one budget.
 */
@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: ConfigType<typeof rateLimitConfig>,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
    @Inject(RATE_LIMIT_EVENTS) private readonly events: RateLimitEvents,
  ) {}

  /** Counts a request (and its estimated tokens) against the caller's limits; throws 429 when over. */
  async admit(caller: Caller | undefined, estimatedTokens: number): Promise<Admission> {
    if (!caller || (!caller.rpm && !caller.tpm)) return { headers: {}, settle: NOTHING_TO_SETTLE };
    const headers: Record<string, string> = {};
    if (caller.rpm) Object.assign(headers, await this.take('requests', caller, caller.rpm, 1));
    if (!caller.tpm) return { headers, settle: NOTHING_TO_SETTLE };
    const tpm = caller.tpm;
    Object.assign(headers, await this.take('tokens', caller, tpm, Math.min(estimatedTokens, tpm)));
    const charged = Math.min(estimatedTokens, tpm);
    return {
      headers,
      settle: async (actual: number) => {
        const diff = actual - charged;
        if (diff === 0) return;
        const limiter = this.limiter('tokens', tpm);
        await (diff > 0 ? limiter.penalty(caller.name, diff) : limiter.reward(caller.name, -diff)).catch((err) => this.storeFailed(err));
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }

  private async take(dimension: 'requests' | 'tokens', caller: Caller, limit: number, points: number): Promise<Record<string, string>> {
    const limiter = this.limiter(dimension, limit);
    try {
      const res = await limiter.consume(caller.name, points);
      return rateLimitHeaders(dimension, limit, res.remainingPoints, res.msBeforeNext);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return this.storeFailed(err, dimension, limit);
      if (dimension === 'tokens') await limiter.reward(caller.name, points).catch(() => undefined);
      this.events.limited(dimension);
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new RateLimitError(`Rate limit reached for ${dimension} per ${this.config.RATE_LIMIT_WINDOW_SECONDS} s (limit ${limit}). Retry after ${retryAfter} s.`, {
        'retry-after': String(retryAfter),
        ...rateLimitHeaders(dimension, limit, 0, err.msBeforeNext),
      });
    }
  }

  /** The store failed: serve or refuse as configured, and say so. */
  private storeFailed(err: unknown, dimension?: 'requests' | 'tokens', limit?: number): Record<string, string> {
    const policy = this.config.RATE_LIMIT_ON_STORE_ERROR;
    this.events.storeError(policy);
    this.logger.warn(`Rate-limit store unavailable (${(err as Error)?.message ?? String(err)}); policy: ${policy}`);
    if (policy === 'deny' && dimension) {
      throw new ApiError(503, 'Rate limits cannot be checked right now; try again shortly.', 'server_error', 'rate_limit_store_unavailable', null, { 'retry-after': '1' });
    }
    return dimension && limit ? { [`x-ratelimit-limit-${dimension}`]: String(limit) } : {};
  }

  private limiter(dimension: 'requests' | 'tokens', points: number): RateLimiterAbstract {
    const id = `${dimension}:${points}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const opts = { points, duration: this.config.RATE_LIMIT_WINDOW_SECONDS, keyPrefix: `gw:rl:${dimension}:${points}` };
      limiter = this.redis ? new RateLimiterRedis({ ...opts, storeClient: this.redis, rejectIfRedisNotReady: true }) : new RateLimiterMemory(opts);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
