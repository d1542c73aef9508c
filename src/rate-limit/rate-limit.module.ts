import { Logger, Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { rateLimitConfig } from './rate-limit.config.js';
import { RateLimitService, REDIS_CLIENT } from './rate-limit.service.js';

/**
 * One Redis connection when REDIS_URL is set: fails fast (no offline queue), reconnects in the
 * background. Start-up waits briefly for it, so the first requests are counted; a Redis that is
 * down does not stop the start (RATE_LIMIT_ON_STORE_ERROR applies).
 */
async function redisFactory(config: ConfigType<typeof rateLimitConfig>): Promise<Redis | null> {
  if (!config.REDIS_URL) return null;
  // Loaded only when used: a service without Redis keeps its memory.
  const { Redis: RedisClient } = await import('ioredis');
  const logger = new Logger('Redis');
  const redis = new RedisClient(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let lastLog = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastLog > 10_000) logger.warn(`Redis: ${err.message}`);
    lastLog = Date.now();
  });
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
  return redis;
}

/** Needs RATE_LIMIT_EVENTS from a global module (metrics). */
@Module({
  imports: [ConfigModule.forFeature(rateLimitConfig)],
  providers: [
    { provide: REDIS_CLIENT, useFactory: redisFactory, inject: [rateLimitConfig.KEY] },
    RateLimitService,
  ],
  exports: [RateLimitService, REDIS_CLIENT],
})
export class RateLimitModule {}
