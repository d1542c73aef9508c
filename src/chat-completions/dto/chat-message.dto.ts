import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';

/** A message the model generated. */
@OpenApiSchema({ name: 'ChatMessage', title: 'ChatMessage', additionalProperties: true, untyped: ['content'] })
export class ChatMessageDto {
  @ApiProperty({ title: 'Content', description: 'The text of the reply (a string, or null when the model only called tools).', required: false })
  content?: unknown;

  @ApiPropertyOptional({ type: 'string', description: 'Always `assistant` in replies.', example: 'assistant' })
  role?: string;

  @ApiPropertyOptional({ type: 'string', nullable: true, description: 'A refusal message, or null.' })
  refusal?: string | null;

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Tool calls the model made.' })
  tool_calls?: Record<string, unknown>[];
}
