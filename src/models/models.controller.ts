import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelRegistry } from '../providers/model-registry.js';
import { ModelListDto } from './dto/model-list.dto.js';

@ApiTags('models')
@ApiBearerAuth('HTTPBearer')
@Controller('v1/models')
export class ModelsController {
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'list_models_v1_models_get', summary: 'List models', description: 'The model names this service serves, in OpenAI\'s list shape.' })
  @ApiOkResponse({ type: ModelListDto, description: 'The configured model names.' })
  list(): ModelListDto {
    return {
      object: 'list',
      data: this.registry.names().map((id) => ({ id, object: 'model', created: this.created, owned_by: this.registry.ownerOf(id) })),
    };
  }
}
