import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { isModelAllowed } from '../auth/model-access.js';
import { ModelRegistry } from '../providers/model-registry.js';
import { ModelListDto } from './dto/model-list.dto.js';

@ApiTags('models')
@ApiBearerAuth('HTTPBearer')
@Controller('v1/models')
export class ModelsController {
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'list_models_v1_models_get', summary: 'List models', description: 'The model names this service serves (those the key may use), in OpenAI\'s list shape.' })
  @ApiOkResponse({ type: ModelListDto, description: 'The configured model names.' })
  list(@Req() req: FastifyRequest): ModelListDto {
    return {
      object: 'list',
      data: this.registry.names().filter((id) => isModelAllowed(req.caller, id)).map((id) => ({ id, object: 'model', created: this.created, owned_by: this.registry.ownerOf(id) })),
    };
  }
}
