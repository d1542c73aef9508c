import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/public.decorator.js';
import { ApiError, AuthenticationError } from '../common/errors/api-error.js';
import { appConfig } from '../config/app.config.js';
import { MetricsService } from './metrics.service.js';
import { ERROR_CODES } from '../common/errors/error-codes.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * GET /metrics in Prometheus' text format, served only when METRICS_TOKEN is set and then behind it
 * (API keys do not open it): the text names every key, model and checkpoint.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(appConfig.KEY) config: ConfigType<typeof appConfig>,
  ) {
    if (config.METRICS_TOKEN) this.token = digest(config.METRICS_TOKEN);
  }

  @Get()
  @Public()
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    if (!this.token) throw new ApiError({ status: 404, message: 'GET /metrics is served only when METRICS_TOKEN is set.', code: ERROR_CODES.notFound });
    const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), this.token)) throw new AuthenticationError('GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".');
    reply.type(this.metrics.registry.contentType).send(await this.metrics.scrape());
  }
}
