import { Inject, Injectable } from '@nestjs/common';
import type { ChatCompletion, ChatCompletionChunk, ChatRequestBody } from '../providers/model-backend.js';
import { ModelRegistry, type ResolvedModel } from '../providers/model-registry.js';

/** One resolved request: which backend serves it, and how to call it. */
export interface PreparedCompletion {
  route: ResolvedModel;
  complete(signal: AbortSignal): Promise<ChatCompletion>;
  stream(signal: AbortSignal): AsyncIterable<ChatCompletionChunk>;
}

@Injectable()
export class ChatCompletionsService {
  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  /** Resolves the model (404 when unknown) before any byte of the reply is written. */
  prepare(body: ChatRequestBody, rawBody: string | undefined): PreparedCompletion {
    const route = this.registry.resolve(body.model);
    const request = { body, rawBody, requestedModel: route.requestedModel, model: route.model };
    return {
      route,
      complete: (signal) => route.backend.complete(request, signal),
      stream: (signal) => route.backend.stream(request, signal),
    };
  }
}
