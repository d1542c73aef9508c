import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FastApiValidationPipe } from '../common/validation/fastapi-validation.pipe.js';
import type { ChatRequestBody } from '../providers/model-backend.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { ChatCompletionRequestDto } from './dto/chat-completion-request.dto.js';
import { ChatCompletionResponseDto } from './dto/chat-completion-response.dto.js';
import { ChatMessageDto } from './dto/chat-message.dto.js';
import { HttpValidationErrorDto } from './dto/http-validation-error.dto.js';
import { abortOnClientGone, streamCompletion } from './completion-responder.js';

@ApiTags('chat-completions')
@ApiExtraModels(ChatMessageDto)
@Controller('v1/chat/completions')
export class ChatCompletionsController {
  constructor(@Inject(ChatCompletionsService) private readonly service: ChatCompletionsService) {}

  @Post()
  @HttpCode(200)
  @ApiBearerAuth('HTTPBearer')
  @ApiOperation({ operationId: 'create_chat_completion_v1_chat_completions_post', summary: 'Chat Completionを作成', description: '新しいChat Completionを作成します。' })
  @ApiBody({ type: ChatCompletionRequestDto, required: true })
  @ApiOkResponse({ type: ChatCompletionResponseDto, description: '正常なレスポンス' })
  @ApiUnprocessableEntityResponse({ type: HttpValidationErrorDto, description: '検証エラー' })
  async create(
    @Body(FastApiValidationPipe) body: ChatCompletionRequestDto,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const completion = await this.service.start(body as unknown as ChatRequestBody, req.rawBody, req.caller);
    reply.headers(completion.headers);
    const signal = abortOnClientGone(reply.raw);
    if (body.stream === true) {
      await streamCompletion(reply, completion.stream(signal), signal);
      return;
    }
    const result = await completion.complete(signal);
    if (!signal.aborted) reply.type('application/json').send(result);
  }
}
