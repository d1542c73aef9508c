import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** One servable model, in OpenAI's shape. */
@ApiSchema({ name: 'Model' })
export class ModelDto {
  @ApiProperty({ type: 'string', description: 'The name to send as `model`.', example: 'echo' })
  id: string;

  @ApiProperty({ type: 'string', enum: ['model'] })
  object: 'model';

  @ApiProperty({ type: 'integer', description: 'Unix time (seconds).' })
  created: number;

  @ApiProperty({ type: 'string', description: 'The provider that serves it.', example: 'echo' })
  owned_by: string;

  @ApiProperty({ type: 'boolean', required: false, description: 'A trained checkpoint loaded now as a LoRA adapter.' })
  checkpoint?: boolean;
}

/** OpenAI's model list. */
@ApiSchema({ name: 'ModelList' })
export class ModelListDto {
  @ApiProperty({ type: 'string', enum: ['list'] })
  object: 'list';

  @ApiProperty({ type: () => [ModelDto] })
  data: ModelDto[];
}
