import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator.js';

@ApiTags('health')
@Controller('v1')
export class HealthController {
  @Get('health')
  @Public()
  @ApiOperation({ operationId: 'health_v1_health_get', summary: 'Liveness', description: 'Answers 200 while the process serves requests.' })
  @ApiOkResponse({ description: 'Alive.', schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } } })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
