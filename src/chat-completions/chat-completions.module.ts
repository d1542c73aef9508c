import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.js';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { ChatCompletionsService } from './chat-completions.service.js';

@Module({
  imports: [ProvidersModule],
  controllers: [ChatCompletionsController],
  providers: [ChatCompletionsService],
})
export class ChatCompletionsModule {}
