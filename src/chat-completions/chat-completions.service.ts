import { Inject, Injectable } from '@nestjs/common';
import { CompletionRouter } from '../providers/completion-router.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequestBody } from '../providers/model-backend.js';
import { ModelRegistry, type ResolvedModel } from '../providers/model-registry.js';

/** One resolved request: where it goes, and how to run it. */
export interface PreparedCompletion {
  model: ResolvedModel;
  complete(signal: AbortSignal): Promise<ChatCompletion>;
  stream(signal: AbortSignal): AsyncIterable<ChatCompletionChunk>;
}

@Injectable()
export class ChatCompletionsService {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(CompletionRouter) private readonly router: CompletionRouter,
  ) {}

  /** Resolves the model (404 when unknown) before any byte of the reply is written. */
  prepare(body: ChatRequestBody, rawBody: string | undefined): PreparedCompletion {
    const model = this.registry.resolve(body.model);
    return {
      model,
      complete: (signal) => this.router.complete(model, body, rawBody, signal),
      stream: (signal) => this.router.stream(model, body, rawBody, signal),
    };
  }
}
