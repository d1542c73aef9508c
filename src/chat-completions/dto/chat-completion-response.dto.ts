import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';
import { ChatMessageDto } from './chat-message.dto.js';

/** One generated choice. */
@OpenApiSchema({ name: 'ChatChoice', title: 'ChatChoice', additionalProperties: true })
export class ChatChoiceDto {
  @ApiProperty({ anyOf: [{ $ref: getSchemaPath(ChatMessageDto) }, { type: 'null' }], required: false })
  message?: ChatMessageDto | null;

  @ApiPropertyOptional({ type: 'integer', example: 0 })
  index?: number;

  @ApiPropertyOptional({ type: 'string', description: '`stop`, `length`, `tool_calls` or `content_filter`.', example: 'stop' })
  finish_reason?: string;

  @ApiPropertyOptional({ description: 'Log probabilities, or null.', nullable: true, type: 'object', additionalProperties: true })
  logprobs?: unknown;
}

/** An OpenAI `chat.completion` object. */
@OpenApiSchema({ name: 'ChatCompletionResponse', title: 'ChatCompletionResponse', additionalProperties: true })
export class ChatCompletionResponseDto {
  @ApiProperty({ title: 'Choices', type: () => [ChatChoiceDto], required: false })
  choices?: ChatChoiceDto[];

  @ApiPropertyOptional({ type: 'string', example: 'chatcmpl-abc123' })
  id?: string;

  @ApiPropertyOptional({ type: 'string', example: 'chat.completion' })
  object?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Unix time (seconds) of creation.' })
  created?: number;

  @ApiPropertyOptional({ type: 'string', description: 'The model name the request asked for.', example: 'echo' })
  model?: string;

  @ApiPropertyOptional({
    type: 'object',
    description: 'Token counts.',
    properties: { prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
  })
  usage?: Record<string, number>;
}
