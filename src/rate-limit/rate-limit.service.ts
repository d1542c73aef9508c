import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Caller } from '../auth/caller.js';
import { ApiError, type RateLimitError } from '../common/errors/api-error.js';
import { ERROR_CODES } from '../common/errors/error-codes.js';
import { limitReached, requestTooLarge } from './rate-limit-errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { rateLimitConfig } from './rate-limit.config.js';
import { StoreOutage } from './store-outage.js';
import { connectRedis, REDIS_COMMAND_TIMEOUT_MS } from './redis-connection.js';

export const REDIS_CLIENT = Symbol('RedisClient');
export const RATE_LIMIT_EVENTS = Symbol('RateLimitEvents');

/** What the limiter reports (metrics listen). */
export interface RateLimitEvents {
  storeError(policy: 'allow' | 'deny'): void;
  limited(dimension: 'requests' | 'tokens'): void;
}

/** What a request may cost against `tpm`. */
export interface TokenDemand {
  /** The estimated prompt. */
  prompt: number;
  /** The client's output limit over all its choices; undefined: RATE_LIMIT_COMPLETION_RESERVE_TOKENS. */
  maxOutput?: number;
}

/** An admitted request: the headers to send, and how to settle its real token count afterwards. */
export interface Admission {
  headers: Record<string, string>;
  settle(actualTokens: number): Promise<void>;
}

/** Tokens held for a request, and until when they may go back to the window they came from. */
interface Reservation {
  tokens: number;
  refundableUntil: number;
}

const NOTHING_TO_SETTLE = async () => undefined;
const MEMORY_REFUND_MARGIN_MS = 10;

/**
 * Per-key limits on requests and tokens per window, counted with rate-limiter-flexible in memory or,
 * with REDIS_URL, in Redis so every replica shares one budget. A request reserves its prompt and
 * its output limit in one atomic consume, and settles to its real usage when it ends.
 */
@Injectable()
export class RateLimitService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  private readonly refundMarginMs: number;
  private readonly outage: StoreOutage;

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: ConfigType<typeof rateLimitConfig>,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
    @Inject(RATE_LIMIT_EVENTS) private readonly events: RateLimitEvents,
  ) {
    this.refundMarginMs = redis ? REDIS_COMMAND_TIMEOUT_MS : MEMORY_REFUND_MARGIN_MS;
    this.outage = new StoreOutage(this.logger, config.RATE_LIMIT_ON_STORE_ERROR);
  }

  /** Counts a request (and reserves its tokens) against the caller's limits; throws 429 when over. */
  async admit(caller: Caller | undefined, demand: TokenDemand): Promise<Admission> {
    if (!caller || (!caller.rpm && !caller.tpm)) return { headers: {}, settle: NOTHING_TO_SETTLE };
    // Before anything is counted: no wait can make it fit.
    if (caller.tpm && demand.prompt > caller.tpm) throw this.tooLarge(caller.tpm, demand.prompt);
    const headers: Record<string, string> = {};
    if (caller.rpm) Object.assign(headers, await this.takeRequest(caller.name, caller.rpm));
    if (!caller.tpm) return { headers, settle: NOTHING_TO_SETTLE };
    const tpm = caller.tpm;
    const reservation = await this.reserve(caller.name, tpm, demand, headers);
    // A request the store could not count (policy allow) has nothing to settle.
    if (!reservation) return { headers, settle: NOTHING_TO_SETTLE };
    return { headers, settle: (actual) => this.settle(caller.name, tpm, reservation, actual) };
  }

  /** Redis is connected here, at init, not when the client is built: a start refused before init leaves no socket open. */
  async onModuleInit(): Promise<void> {
    if (this.redis) await connectRedis(this.redis);
  }

  async onApplicationShutdown(): Promise<void> {
    // A client still reconnecting cannot QUIT; disconnect stops its reconnection timer.
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  private async takeRequest(key: string, rpm: number): Promise<Record<string, string>> {
    try {
      const res = await this.limiter('requests', rpm).consume(key, 1);
      this.outage.answered();
      return rateLimitHeaders('requests', rpm, res.remainingPoints, res.msBeforeNext);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return this.storeFailed(err, 'requests', rpm);
      this.outage.answered();
      throw this.limited('requests', rpm, err.msBeforeNext);
    }
  }

  /**
   * Reserves the prompt and the output limit in one atomic consume, so concurrent requests (on any
   * replica) never hold more than `tpm` between them. The output part is capped so the two fit an
   * empty window.
   */
  private async reserve(key: string, tpm: number, demand: TokenDemand, headers: Record<string, string>): Promise<Reservation | undefined> {
    const limiter = this.limiter('tokens', tpm);
    const points = demand.prompt + Math.min(demand.maxOutput ?? this.config.RATE_LIMIT_COMPLETION_RESERVE_TOKENS, tpm - demand.prompt);
    try {
      const res = await limiter.consume(key, points);
      this.outage.answered();
      Object.assign(headers, rateLimitHeaders('tokens', tpm, res.remainingPoints, res.msBeforeNext));
      return { tokens: points, refundableUntil: this.refundableUntil(res) };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        Object.assign(headers, this.storeFailed(err, 'tokens', tpm));
        return undefined;
      }
      this.outage.answered();
      // A refused consume still added its points: give them back.
      await this.refund(limiter, key, points, this.refundableUntil(err));
      throw this.limited('tokens', tpm, err.msBeforeNext);
    }
  }

  private async settle(key: string, tpm: number, reservation: Reservation, actual: number): Promise<void> {
    const used = Number.isFinite(actual) && actual > 0 ? Math.ceil(actual) : 0;
    const limiter = this.limiter('tokens', tpm);
    if (used < reservation.tokens) return this.refund(limiter, key, reservation.tokens - used, reservation.refundableUntil);
    if (used > reservation.tokens)
      await limiter.penalty(key, used - reservation.tokens).then(
        () => this.outage.answered(),
        (err) => this.storeFailed(err),
      );
  }

  /** Gives tokens back, unless their window has (nearly) passed: the refund would then credit the next one. */
  private async refund(limiter: RateLimiterAbstract, key: string, points: number, until: number): Promise<void> {
    if (points <= 0 || Date.now() >= until) return;
    await limiter.reward(key, points).then(
      () => this.outage.answered(),
      (err) => this.storeFailed(err),
    );
  }

  private refundableUntil(res: RateLimiterRes): number {
    return Date.now() + res.msBeforeNext - this.refundMarginMs;
  }

  private limited(dimension: 'requests' | 'tokens', limit: number, msBeforeNext: number): RateLimitError {
    this.events.limited(dimension);
    return limitReached(dimension, limit, this.config.RATE_LIMIT_WINDOW_SECONDS, msBeforeNext);
  }

  private tooLarge(tpm: number, prompt: number): RateLimitError {
    this.events.limited('tokens');
    return requestTooLarge(tpm, prompt, this.config.RATE_LIMIT_WINDOW_SECONDS);
  }

  /** The store failed: serve or refuse as configured; counted every time, logged once an outage. */
  private storeFailed(err: unknown, dimension?: 'requests' | 'tokens', limit?: number): Record<string, string> {
    const policy = this.config.RATE_LIMIT_ON_STORE_ERROR;
    this.events.storeError(policy);
    this.outage.failed(err);
    if (policy === 'deny' && dimension) {
      throw new ApiError({
        status: 503,
        message: 'Rate limits cannot be checked right now; try again shortly.',
        code: ERROR_CODES.rateLimitStoreUnavailable,
        headers: { 'retry-after': '1' },
      });
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
