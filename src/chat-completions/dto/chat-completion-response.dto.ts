import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';
import { ChatMessageDto } from './chat-message.dto.js';

/** One generated choice. */
@OpenApiSchema({ name: 'ChatChoice', title: 'ChatChoice', additionalProperties: true })
export class ChatChoiceDto {
  @ApiProperty({ anyOf: [{ $ref: getSchemaPath(ChatMessageDto) }, { type: 'null' }], required: false, description: 'The generated message.' })
  message?: ChatMessageDto | null;

  @ApiPropertyOptional({ type: 'integer', description: 'The position of this choice in `choices`.', example: 0 })
  index?: number;

  @ApiPropertyOptional({ type: 'string', description: '`stop`, `length`, `tool_calls` or `content_filter`.', example: 'stop' })
  finish_reason?: string;

  @ApiPropertyOptional({ description: 'Log probabilities, or null.', nullable: true, type: 'object', additionalProperties: true })
  logprobs?: unknown;
}

/** An OpenAI `chat.completion` object. */
@OpenApiSchema({ name: 'ChatCompletionResponse', title: 'ChatCompletionResponse', additionalProperties: true })
export class ChatCompletionResponseDto {
  @ApiProperty({
    title: 'Choices',
    type: () => [ChatChoiceDto],
    required: false,
    description: 'The generated choices (one unless the request asked for more).',
  })
  choices?: ChatChoiceDto[];

  @ApiPropertyOptional({ type: 'string', description: 'A unique id of this completion.', example: 'chatcmpl-abc123' })
  id?: string;

  @ApiPropertyOptional({ type: 'string', description: 'Always `chat.completion`.', example: 'chat.completion' })
  object?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Unix time (seconds) of creation.' })
  created?: number;

  @ApiPropertyOptional({ type: 'string', description: 'The model name the request asked for.', example: 'echo' })
  model?: string;

  @ApiPropertyOptional({
    type: 'object',
    description: 'Token counts.',
    properties: {
      prompt_tokens: { type: 'integer', description: 'Tokens in the prompt.' },
      completion_tokens: { type: 'integer', description: 'Tokens generated.' },
      total_tokens: { type: 'integer', description: 'The sum of both.' },
    },
  })
  usage?: Record<string, number>;
}

/** What the `echo` request example gets back. */
export const CHAT_COMPLETION_EXAMPLE = {
  id: 'chatcmpl-MqWPnckxoWdQckia8m3NCEq1',
  object: 'chat.completion',
  created: 1767225600,
  model: 'echo',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the docs', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
};

const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
  JSON.stringify({
    id: 'chatcmpl-Goy7OMTq7npxAFeClLt5goKQ',
    object: 'chat.completion.chunk',
    created: 1767225600,
    model: 'echo',
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });

/** What the streaming `echo` request example gets back: `chat.completion.chunk` events, usage last, then `[DONE]`. */
export const CHAT_COMPLETION_STREAM_EXAMPLE = [
  chunk({ role: 'assistant', content: '' }, null),
  ...['Hello', ' from', ' the', ' docs'].map((content) => chunk({ content }, null)),
  chunk({}, 'stop'),
  JSON.stringify({
    id: 'chatcmpl-Goy7OMTq7npxAFeClLt5goKQ',
    object: 'chat.completion.chunk',
    created: 1767225600,
    model: 'echo',
    choices: [],
    usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
  }),
  '[DONE]',
]
  .map((data) => `data: ${data}\n\n`)
  .join('');
