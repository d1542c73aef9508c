import { ApiProperty, ApiPropertyOptional, type ExamplesObject } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsObject, IsOptional, IsString } from 'class-validator';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';

/**
 * An OpenAI chat-completions request. Open by contract: every field not listed here is kept and
 * handed to the model backend untouched. Only `model` and `messages` are required.
 */
@OpenApiSchema({ name: 'ChatCompletionRequest', title: 'ChatCompletionRequest', additionalProperties: true })
export class ChatCompletionRequestDto {
  @ApiProperty({ title: 'Model', type: 'string', description: 'The model to use: a name listed by `GET /v1/models` (`echo` is built in).', example: 'echo' })
  @IsString()
  model: string;

  @ApiProperty({
    title: 'Messages',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'The conversation so far: objects with `role` (`system`, `developer`, `user`, `assistant`, `tool`) and `content` (a string or an array of content parts).',
    example: [{ role: 'user', content: 'Hello from the docs' }],
  })
  @IsArray()
  @IsObject({ each: true })
  messages: Record<string, unknown>[];

  @ApiPropertyOptional({
    type: 'boolean',
    description: 'Stream the reply as server-sent events (`text/event-stream`) of `chat.completion.chunk` objects, ended by `data: [DONE]`.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  stream?: boolean | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    properties: { include_usage: { type: 'boolean', description: 'Send a last chunk with `choices: []` and `usage`.' } },
    description: 'Options for a streamed reply.',
  })
  @IsOptional()
  @IsObject()
  stream_options?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: 'integer', description: 'Upper bound on generated tokens (`finish_reason` is `length` when it is reached).' })
  max_completion_tokens?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Deprecated alias of `max_completion_tokens`.' })
  max_tokens?: number;

  @ApiPropertyOptional({ type: 'number', description: 'Sampling temperature, 0 to 2.' })
  temperature?: number;

  @ApiPropertyOptional({ type: 'number', description: 'Nucleus sampling: the probability mass to sample from.' })
  top_p?: number;

  @ApiPropertyOptional({
    description: 'Up to 4 sequences where generation stops: a string or an array of strings.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  })
  stop?: string | string[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Tools (functions) the model may call.' })
  tools?: Record<string, unknown>[];

  @ApiPropertyOptional({
    description: '`none`, `auto`, `required`, or a named tool to call.',
    oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }],
  })
  tool_choice?: unknown;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '`{"type":"json_object"}` or `{"type":"json_schema","json_schema":{…}}` to constrain the reply to JSON.',
  })
  response_format?: Record<string, unknown>;
}

/** Requests that run as they are against the built-in `echo` model (Swagger UI's "Try it out"). */
export const CHAT_COMPLETION_REQUEST_EXAMPLES: ExamplesObject = {
  echo: {
    summary: 'echo: one JSON reply',
    description: 'The `echo` model answers with the text of the last user message.',
    value: { model: 'echo', messages: [{ role: 'user', content: 'Hello from the docs' }] },
  },
  echo_stream: {
    summary: 'echo: streamed as server-sent events',
    description: 'The reply arrives word by word as `text/event-stream`; `include_usage` adds a last chunk with the token counts.',
    value: { model: 'echo', messages: [{ role: 'user', content: 'Hello from the docs' }], stream: true, stream_options: { include_usage: true } },
  },
};
