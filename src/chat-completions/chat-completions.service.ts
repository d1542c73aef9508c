import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { isModelAllowed } from '../auth/model-access.js';
import { PermissionError } from '../common/errors/api-error.js';
import { CompletionRouter } from '../providers/completion-router.js';
import type { CompletionTrace } from '../providers/completion-trace.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequestBody, CompletionUsage } from '../providers/model-backend.js';
import { ModelRegistry, type ResolvedModel } from '../providers/model-registry.js';
import { estimatePromptTokens, estimateReplyTokens, maxOutputTokens, StreamedText } from '../rate-limit/token-estimate.js';
import { RateLimitService, type Admission } from '../rate-limit/rate-limit.service.js';

/** An admitted request: where it goes, the headers its reply carries, and how to run it. */
export interface StartedCompletion {
  model: ResolvedModel;
  headers: Record<string, string>;
  complete(signal: AbortSignal): Promise<ChatCompletion>;
  /** Resolves once the first chunk is there (every refusal and retry happens before); rejects with the error otherwise. */
  openStream(signal: AbortSignal): Promise<AsyncIterator<ChatCompletionChunk>>;
}

@Injectable()
export class ChatCompletionsService {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(CompletionRouter) private readonly router: CompletionRouter,
    @Inject(RateLimitService) private readonly limits: RateLimitService,
  ) {}

  /**
   * Everything that can refuse a request, before any backend is called or any byte written:
   * model access (403), the model's existence (404), the caller's rate limits (429).
   */
  async start(body: ChatRequestBody, rawBody: string | undefined, caller: Caller | undefined, trace: CompletionTrace = {}): Promise<StartedCompletion> {
    if (!isModelAllowed(caller, body.model)) throw new PermissionError(`This key may not use the model '${body.model}'.`);
    const model = this.registry.resolve(body.model);
    const checkpoint = this.forbiddenCheckpoint(caller, model);
    if (checkpoint !== undefined) throw new PermissionError(`This key may not use the model '${body.model}': it reaches the trained checkpoint '${checkpoint}'.`);
    const mayUse = (fallback: ResolvedModel) => isModelAllowed(caller, fallback.requestedModel) && this.forbiddenCheckpoint(caller, fallback) === undefined;
    trace.model = model.routeName;
    // The prompt is walked only when a tpm budget or a reply without usage needs it, and then once.
    let prompt: number | undefined;
    const estimate = () => (prompt ??= estimatePromptTokens(body));
    const admission = await this.limits.admit(caller, caller?.tpm ? { prompt: estimate(), maxOutput: maxOutputTokens(body) } : NO_TOKENS);
    return {
      model,
      headers: admission.headers,
      complete: async (signal) => {
        let reply: ChatCompletion;
        try {
          reply = await this.router.complete(model, body, rawBody, signal, trace, mayUse);
        } catch (err) {
          // Failed or abandoned, it may still have cost its prompt; it no longer holds its output reservation.
          void admission.settle(estimate());
          throw err;
        }
        trace.usage = hasTotal(reply.usage) ? reply.usage : estimatedUsage(estimate(), estimateReplyTokens(reply.choices));
        void admission.settle(trace.usage.total_tokens);
        return reply;
      },
      openStream: async (signal) => {
        try {
          return this.settled(await this.router.openStream(model, body, rawBody, signal, trace, mayUse), admission, estimate, trace);
        } catch (err) {
          this.settle(undefined, new StreamedText(), admission, estimate, trace);
          throw err;
        }
      },
    };
  }

  /**
   * Access is decided on what is served: when a name reaches a trained checkpoint by pass-through,
   * the caller must be allowed the checkpoint's own name. Returns that name when it is not.
   */
  private forbiddenCheckpoint(caller: Caller | undefined, model: ResolvedModel): string | undefined {
    if (!caller?.models) return undefined;
    for (const target of model.targets) {
      const names = this.registry.checkpointNames(target);
      if (names && !names.some((name) => isModelAllowed(caller, name))) return names[0] ?? target.model;
    }
    return undefined;
  }

  /**
   * Passes chunks on and, when the stream ends (done, failed or left), settles the real token
   * count: the usage chunk's, or an estimate from every text every choice produced.
   */
  private settled(chunks: AsyncIterator<ChatCompletionChunk>, admission: Admission, estimate: () => number, trace: CompletionTrace): AsyncIterator<ChatCompletionChunk> {
    let usage: CompletionUsage | null | undefined;
    const produced = new StreamedText();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.settle(usage, produced, admission, estimate, trace);
    };
    // Made once per stream, not once per chunk.
    const read = (r: IteratorResult<ChatCompletionChunk>) => {
      if (r.done) end();
      else {
        if (r.value.usage) usage = r.value.usage;
        produced.add(r.value.choices);
      }
      return r;
    };
    const failed = (err: unknown): never => {
      end();
      throw err;
    };
    return {
      next: () => chunks.next().then(read, failed),
      return: (value?: unknown) => {
        end();
        return chunks.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private settle(usage: CompletionUsage | null | undefined, produced: StreamedText, admission: Admission, estimate: () => number, trace: CompletionTrace): void {
    trace.usage = hasTotal(usage) ? usage : estimatedUsage(estimate(), produced.tokens);
    void admission.settle(trace.usage.total_tokens);
  }
}

/** What a caller without a tpm budget is asked for: nothing is reserved. */
const NO_TOKENS = { prompt: 0 };

/** Whether a reported usage has a count the budget can settle to. */
function hasTotal(usage: CompletionUsage | null | undefined): usage is CompletionUsage {
  const total = usage?.total_tokens;
  return typeof total === 'number' && Number.isFinite(total) && total >= 0;
}

function estimatedUsage(prompt: number, completion: number): CompletionUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, estimated: true };
}
