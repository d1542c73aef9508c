import { Global, Module } from '@nestjs/common';
import { ROUTER_EVENTS } from '../providers/router-events.js';
import { RATE_LIMIT_EVENTS } from '../rate-limit/rate-limit.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** Global: the router's and the rate limiter's events are metrics. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, { provide: ROUTER_EVENTS, useExisting: MetricsService }, { provide: RATE_LIMIT_EVENTS, useExisting: MetricsService }],
  exports: [MetricsService, ROUTER_EVENTS, RATE_LIMIT_EVENTS],
})
export class MetricsModule {}
