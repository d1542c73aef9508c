import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/public.decorator.js';
import { HealthService } from './health.service.js';

const READINESS_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { status: { type: 'string', enum: ['up', 'down'] }, error: { type: 'string' }, latencyMs: { type: 'number' } },
      },
    },
  },
};

@ApiTags('health')
@Controller('v1')
export class HealthController {
  constructor(@Inject(HealthService) private readonly health: HealthService) {}

  @Get('health')
  @Public()
  @ApiOperation({ operationId: 'health_v1_health_get', summary: 'Liveness', description: 'Answers 200 while the process serves requests.' })
  @ApiOkResponse({ description: 'Alive.', schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } } })
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('system-check')
  @Public()
  @ApiOperation({
    operationId: 'system_check_v1_system_check_get',
    summary: 'Readiness',
    description: 'Each configured provider reachable, Redis (if configured) answering, local models loaded; 503 while any is not, and while shutting down.',
  })
  @ApiOkResponse({ description: 'Ready.', schema: READINESS_SCHEMA })
  @ApiServiceUnavailableResponse({ description: 'Not ready: the failing checks say why.', schema: READINESS_SCHEMA })
  async readiness(@Res() reply: FastifyReply): Promise<void> {
    const result = await this.health.readiness();
    reply.status(result.status === 'ok' ? 200 : 503).send(result);
  }
}
