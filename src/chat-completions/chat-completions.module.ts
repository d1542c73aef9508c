import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { CompletionResponder } from './completion-responder.js';

@Module({
  imports: [ProvidersModule, RateLimitModule],
  controllers: [ChatCompletionsController],
  providers: [ChatCompletionsService, CompletionResponder],
})
export class ChatCompletionsModule {}
