import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { isModelAllowed } from '../auth/model-access.js';
import { PermissionError } from '../common/errors/api-error.js';
import { CompletionRouter, type MayUse, type RoutedStream } from '../providers/completion-router.js';
import { includesUsage } from '../providers/openai-format.js';
import type { ChunkFrame, CompletionFrame, CompletionUsage, RequestBody } from '../providers/model-backend.js';
import { ModelRegistry, type ResolvedModel } from '../providers/model-registry.js';
import { estimatePromptTokens, estimateReplyTokens, maxOutputTokens, StreamedText } from '../rate-limit/token-estimate.js';
import { RateLimitService, type Admission } from '../rate-limit/rate-limit.service.js';
import type { Served } from './completion-record.js';

/** A request every check let through: where it goes and the headers its reply carries. */
export interface AdmittedCompletion {
  readonly model: ResolvedModel;
  readonly headers: Record<string, string>;
  readonly body: RequestBody;
  /** Which fallbacks the caller may be served by. */
  readonly mayUse: MayUse;
  readonly admission: Admission;
  readonly prompt: PromptEstimate;
}

/** A reply, with what served it. */
export interface ServedCompletion extends Served {
  readonly frame: CompletionFrame;
  readonly usage: CompletionUsage;
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
  async admit(body: RequestBody, caller: Caller | undefined): Promise<AdmittedCompletion> {
    const requested = body.json.model;
    if (!this.mayName(caller, requested)) throw new PermissionError(`This key may not use the model '${requested}'.`);
    const model = this.registry.resolve(requested);
    const checkpoint = this.forbiddenCheckpoint(caller, model);
    if (checkpoint !== undefined)
      throw new PermissionError(`This key may not use the model '${requested}': it reaches the trained checkpoint '${checkpoint}'.`);
    const mayUse: MayUse = (fallback) => this.mayName(caller, fallback.requestedModel) && this.forbiddenCheckpoint(caller, fallback) === undefined;
    const prompt = new PromptEstimate(body.json);
    const admission = await this.limits.admit(caller, caller?.tpm ? { prompt: prompt.tokens, maxOutput: maxOutputTokens(body.json) } : NO_TOKENS);
    return { model, headers: admission.headers, body, mayUse, admission, prompt };
  }

  /** Runs an admitted request to its whole reply, and settles its token budget to the reply's usage. */
  async complete(admitted: AdmittedCompletion, signal: AbortSignal): Promise<ServedCompletion> {
    let served;
    try {
      served = await this.router.complete(admitted.model, admitted.body, signal, admitted.mayUse);
    } catch (err) {
      // Failed or abandoned, it may still have cost its prompt; it no longer holds its output reservation.
      void admitted.admission.settle(admitted.prompt.tokens);
      throw err;
    }
    const { completion } = served.frame;
    const usage = hasTotal(completion.usage) ? completion.usage : estimatedUsage(admitted.prompt.tokens, estimateReplyTokens(completion.choices));
    void admitted.admission.settle(usage.total_tokens);
    return { frame: served.frame, provider: served.provider, usage, checkpointVersion: served.checkpointVersion };
  }

  /**
   * Opens an admitted request's stream: resolves once the first chunk is there (every refusal and
   * retry happens before) and rejects with the error otherwise. The stream settles the token
   * budget when it ends, however it ends.
   */
  async stream(admitted: AdmittedCompletion, signal: AbortSignal): Promise<SettledStream> {
    let routed;
    try {
      routed = await this.router.openStream(admitted.model, admitted.body, signal, admitted.mayUse);
    } catch (err) {
      void admitted.admission.settle(admitted.prompt.tokens);
      throw err;
    }
    return new SettledStream(routed, admitted);
  }

  /** A name the caller may ask for: as written, or in the form its route is configured in (`scheme:///…` for `scheme://…`). */
  private mayName(caller: Caller | undefined, requested: string): boolean {
    if (isModelAllowed(caller, requested)) return true;
    const canonical = this.registry.canonicalName(requested);
    return canonical !== requested && isModelAllowed(caller, canonical);
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
}

/**
 * A stream's frames, passed on as they come; when the stream ends (done, failed or left) its
 * usage is settled: the usage chunk's, or an estimate from every text every choice produced.
 * A usage chunk the client did not ask for (a backend reports its usage whenever it knows it; a
 * trainable route asks its upstream for it) is read, not passed on.
 */
export class SettledStream implements AsyncIterator<ChunkFrame>, Served {
  /** Known once the stream ended. */
  usage: CompletionUsage | undefined;
  readonly provider: string;
  readonly checkpointVersion?: string;
  private readonly frames: AsyncIterator<ChunkFrame>;
  /** The client did not ask for the usage chunk (`stream_options.include_usage`): it is read, not passed on. */
  private readonly usageUnasked: boolean;
  private reported: CompletionUsage | null | undefined;
  private readonly produced = new StreamedText();
  private ended = false;

  constructor(
    routed: RoutedStream,
    private readonly admitted: AdmittedCompletion,
  ) {
    this.frames = routed.frames;
    this.provider = routed.provider;
    this.checkpointVersion = routed.checkpointVersion;
    this.usageUnasked = !includesUsage(admitted.body.json);
  }

  next(): Promise<IteratorResult<ChunkFrame>> {
    return this.frames.next().then(this.read, this.failed);
  }

  return(value?: unknown): Promise<IteratorResult<ChunkFrame>> {
    this.end();
    return this.frames.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
  }

  // Bound once per stream, not once per chunk.
  private readonly read = (r: IteratorResult<ChunkFrame>): IteratorResult<ChunkFrame> | Promise<IteratorResult<ChunkFrame>> => {
    if (r.done) this.end();
    else {
      const { chunk } = r.value;
      if (chunk.usage) {
        this.reported = chunk.usage;
        if (this.usageUnasked && chunk.choices?.length === 0) return this.next();
      }
      this.produced.add(chunk.choices);
    }
    return r;
  };

  private readonly failed = (err: unknown): never => {
    this.end();
    throw err;
  };

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.usage = hasTotal(this.reported) ? this.reported : estimatedUsage(this.admitted.prompt.tokens, this.produced.tokens);
    void this.admitted.admission.settle(this.usage.total_tokens);
  }
}

/** The prompt's estimated tokens, walked only when a tpm budget or a reply without usage needs it, and then once. */
class PromptEstimate {
  private counted: number | undefined;
  constructor(private readonly body: RequestBody['json']) {}
  get tokens(): number {
    return (this.counted ??= estimatePromptTokens(this.body));
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
