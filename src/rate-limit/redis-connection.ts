import { Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import type { rateLimitConfig } from './rate-limit.config.js';

/** The longest a Redis command may take (the client's `commandTimeout`). */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * One Redis connection when REDIS_URL is set: fails fast (no offline queue), reconnects in the
 * background. Start-up waits briefly for it, so the first requests are counted; a Redis that is
 * down does not stop the start (RATE_LIMIT_ON_STORE_ERROR applies). A lost connection is logged
 * once, and once more when it is back, however many reconnection attempts fail in between.
 */
export async function redisFactory(config: ConfigType<typeof rateLimitConfig>): Promise<Redis | null> {
  if (!config.REDIS_URL) return null;
  // Loaded only when used: a service without Redis keeps its memory.
  const { Redis: RedisClient } = await import('ioredis');
  const logger = new Logger('Redis');
  const redis = new RedisClient(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    // Connected at init (connectRedis), not when built: a start refused before init leaves no socket open.
    lazyConnect: true,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn(`Redis: ${err.message}; reconnecting in the background (logged again only once it is back)`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log('Redis: connected again');
  });
  return redis;
}

/** Connects the client, waiting up to 3 s for it: a Redis that is down does not stop the start. */
export async function connectRedis(redis: Redis): Promise<void> {
  const logger = new Logger('Redis');
  redis.connect().catch(() => undefined);
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(() => {
      logger.warn('Redis is not reachable yet; serving with RATE_LIMIT_ON_STORE_ERROR until it is');
      done();
    }, 3000);
    redis.once('ready', done);
  });
}
