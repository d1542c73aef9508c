import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { isModelAllowed } from '../auth/model-access.js';
import { ModelRegistry } from '../providers/model-registry.js';
import { ModelListDto, type ModelDto } from './dto/model-list.dto.js';

@ApiTags('models')
@ApiBearerAuth('HTTPBearer')
@Controller('v1/models')
export class ModelsController {
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({
    operationId: 'list_models_v1_models_get',
    summary: 'List models',
    description:
      "The model names this service serves (those the key may use), in OpenAI's list shape, then the trained checkpoints loaded now (`checkpoint: true`).",
  })
  @ApiOkResponse({ type: ModelListDto, description: 'The configured model names.' })
  list(@Req() req: FastifyRequest): ModelListDto {
    const configured = this.registry.names().map((id): ModelDto => ({ id, object: 'model', created: this.created, owned_by: this.registry.ownerOf(id) }));
    const checkpoints = this.registry
      .loadedCheckpoints()
      .map((c): ModelDto => ({ id: c.id, object: 'model', created: this.created, owned_by: c.provider, checkpoint: true }));
    return { object: 'list', data: [...configured, ...checkpoints].filter((m) => isModelAllowed(req.caller, m.id)) };
  }
}
