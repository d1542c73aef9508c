import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FastApiValidationPipe } from '../common/validation/fastapi-validation.pipe.js';
import type { ChatRequestBody } from '../providers/model-backend.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { CHAT_COMPLETION_REQUEST_EXAMPLES, ChatCompletionRequestDto } from './dto/chat-completion-request.dto.js';
import { CHAT_COMPLETION_EXAMPLE, CHAT_COMPLETION_STREAM_EXAMPLE, ChatCompletionResponseDto } from './dto/chat-completion-response.dto.js';
import { ChatMessageDto } from './dto/chat-message.dto.js';
import { ErrorResponseDto } from './dto/error-response.dto.js';
import { HTTP_VALIDATION_ERROR_EXAMPLE, HttpValidationErrorDto } from './dto/http-validation-error.dto.js';
import { abortOnClientGone, CompletionResponder } from './completion-responder.js';

@ApiTags('chat-completions')
@ApiExtraModels(ChatMessageDto, ChatCompletionRequestDto, ChatCompletionResponseDto)
@Controller('v1/chat/completions')
export class ChatCompletionsController {
  constructor(
    @Inject(ChatCompletionsService) private readonly service: ChatCompletionsService,
    @Inject(CompletionResponder) private readonly responder: CompletionResponder,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiBearerAuth('HTTPBearer')
  @ApiOperation({
    operationId: 'create_chat_completion_v1_chat_completions_post',
    summary: 'Chat Completionを作成',
    description: '新しいChat Completionを作成します。',
  })
  @ApiBody({ type: ChatCompletionRequestDto, required: true, examples: CHAT_COMPLETION_REQUEST_EXAMPLES })
  // Written out because @nestjs/swagger gives every media type of a `type`d response the same schema.
  @ApiOkResponse({
    description: '正常なレスポンス',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ChatCompletionResponseDto) },
        examples: { echo: { summary: 'echo', value: CHAT_COMPLETION_EXAMPLE } },
      },
      'text/event-stream': {
        schema: { type: 'string', description: 'With `"stream": true`: `data: <chat.completion.chunk JSON>` events, then `data: [DONE]`.' },
        examples: { echo_stream: { summary: 'echo, streamed', value: CHAT_COMPLETION_STREAM_EXAMPLE } },
      },
    },
  })
  @ApiUnprocessableEntityResponse({
    type: HttpValidationErrorDto,
    description: '検証エラー',
    examples: { missing_model: { summary: 'No model', value: HTTP_VALIDATION_ERROR_EXAMPLE } },
  })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'Missing or unknown key (with `WWW-Authenticate: Bearer`).' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'The key may not use this model (`permission_error`).' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'Unknown model (`model_not_found`).' })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'Body over `MAX_BODY_BYTES`.' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: "Over the key's `rpm`/`tpm` (with `Retry-After`), or the upstream's own rate limit." })
  @ApiResponse({ status: 502, type: ErrorResponseDto, description: 'The upstream failed after retries and fallbacks.' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: "A local model's queue is full (with `Retry-After`)." })
  @ApiResponse({ status: 504, type: ErrorResponseDto, description: 'The upstream did not answer within its `timeoutMs`.' })
  async create(@Body(FastApiValidationPipe) body: ChatCompletionRequestDto, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const record = req.completion ?? {};
    record.stream = body.stream === true;
    const admitted = await this.service.admit({ json: body as unknown as ChatRequestBody, text: req.rawBody }, req.caller);
    record.model = admitted.model.routeName;
    reply.headers(admitted.headers);
    const signal = abortOnClientGone(reply.raw);
    if (record.stream) {
      // An error before the first chunk is an ordinary error reply, its status intact.
      const stream = await this.service.stream(admitted, signal);
      record.served = stream;
      // Before the first frame: the stream's headers leave with it.
      if (stream.checkpointVersion) reply.header('x-checkpoint-version', stream.checkpointVersion);
      Object.assign(record, await this.responder.stream(reply, stream, signal));
      return;
    }
    const served = await this.service.complete(admitted, signal);
    record.served = served;
    if (served.checkpointVersion) reply.header('x-checkpoint-version', served.checkpointVersion);
    if (!signal.aborted) Object.assign(record, this.responder.send(reply, served.frame));
  }
}
