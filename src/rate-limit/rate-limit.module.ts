import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { rateLimitConfig } from './rate-limit.config.js';
import { RateLimitService, REDIS_CLIENT } from './rate-limit.service.js';
import { redisFactory } from './redis-connection.js';

/** Needs RATE_LIMIT_EVENTS from a global module (metrics). */
@Module({
  imports: [ConfigModule.forFeature(rateLimitConfig)],
  providers: [{ provide: REDIS_CLIENT, useFactory: redisFactory, inject: [rateLimitConfig.KEY] }, RateLimitService],
  exports: [RateLimitService, REDIS_CLIENT],
})
export class RateLimitModule {}
