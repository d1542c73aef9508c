import { Logger } from '@nestjs/common';
import type { LlamaChat, LlamaGrammar, LlamaText, Token } from 'node-llama-cpp';
import { settlesWithin } from '../../common/async/settles-within.js';
import { ApiError, OverloadedError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { completionId, unixSeconds } from '../../common/ids.js';
import type { BackendRequest, ChunkFrame, CompletionFrame, ModelBackend } from '../model-backend.js';
import { chatChunk, chatCompletion, usageChunk } from '../openai-format.js';
import type { LlamaCppProviderConfig } from './llama-cpp.config.js';
import { GrammarCache } from './llama-cpp.grammars.js';
import { type LlamaCppOptions, type LoadedLlama, type ResolvedLlamaCppOptions, loadLlama, resolveOptions } from './llama-cpp.loader.js';
import { type LlamaAnswer, type LlamaGeneration, finishReason, toGeneration, usage } from './llama-cpp.mapper.js';
import { SequencePool } from './llama-cpp.pool.js';
import { TokenSampler, randomSeed } from './llama-cpp.sampler.js';
import { type TokenJob, TokenPath } from './llama-cpp.token-path.js';
import { type ReplyHead, type TokenAsk, tokenAsk } from './llama-cpp.tokens.mapper.js';

export { LlamaCppLoadError, type LlamaCppOptions, type ResolvedLlamaCppOptions } from './llama-cpp.loader.js';

/** How long close() waits for llama.cpp to free the model and its runtime. */
const RELEASE_TIMEOUT_MS = 5_000;

/** A request admitted to a sequence, ready to generate. */
interface Job {
  generation: LlamaGeneration;
  chat: LlamaChat;
  grammar?: LlamaGrammar;
  /** The prompt's token ids: the history rendered by the chat template, as the model evaluates it. */
  prompt: Token[];
  /** The chat template's stop triggers for this history. */
  triggers: readonly LlamaText[];
  maxTokens: number;
  /** What only the token path gives (logprobs, token ids, several choices); unset for the ordinary path. */
  ask?: TokenAsk;
}

/**
 * Runs a GGUF model in-process with node-llama-cpp: the model's own chat template, one context
 * sequence per concurrent request, a bounded FIFO for the rest, grammar-enforced JSON output.
 */
export class LlamaCppBackend implements ModelBackend {
  readonly kind = 'llama-cpp';
  private readonly logger = new Logger(LlamaCppBackend.name);
  private readonly pool: SequencePool<LlamaChat>;
  private readonly grammars: GrammarCache;
  private readonly sampler: TokenSampler;
  private readonly tokens: TokenPath;
  private closed = false;

  private constructor(
    /** The options in effect, `contextSize` as created (llama.cpp may round it). */
    readonly options: ResolvedLlamaCppOptions,
    private readonly loaded: LoadedLlama,
  ) {
    this.pool = new SequencePool(loaded.chats, options.maxQueue);
    this.grammars = new GrammarCache(loaded.llama, this.logger);
    this.sampler = new TokenSampler(loaded.model, loaded.grammarState);
    this.tokens = new TokenPath(this.sampler);
  }

  /** Loads the model; rejects with a `LlamaCppLoadError` naming the path when the file is missing or invalid. */
  static async load(options: LlamaCppOptions): Promise<LlamaCppBackend> {
    const resolved = resolveOptions(options);
    const logger = new Logger(LlamaCppBackend.name);
    const loaded = await loadLlama(resolved, logger);
    const { context, chatWrapper, llama } = loaded;
    logger.log(
      `Loaded ${resolved.modelPath}: ${chatWrapper.wrapperName} template, ${context.contextSize} tokens × ${resolved.parallel}, ${resolved.threads} threads, ${llama.gpu || 'cpu'}`,
    );
    return new LlamaCppBackend({ ...resolved, contextSize: context.contextSize }, loaded);
  }

  /** The chat template in use: a specialised wrapper resolved from the GGUF metadata, or a generic fallback. */
  get template(): string {
    return this.loaded.chatWrapper.wrapperName;
  }

  /** Requests waiting for a sequence and sequences free, for metrics. */
  get stats(): { queued: number; idle: number } {
    return { queued: this.pool.queued, idle: this.pool.idle };
  }

  /** The model's own tokenization of `text` (special-token text such as `<|im_end|>` parsed when asked). */
  tokenize(text: string, specialTokens = false): number[] {
    return this.loaded.model.tokenize(text, specialTokens);
  }

  async complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame> {
    const job = await this.admit(request, signal);
    if (job.ask) {
      try {
        return { completion: await this.tokens.complete(this.tokenJob(job, job.ask, request), signal) };
      } finally {
        this.pool.release(job.chat);
      }
    }
    const answer = await this.run(job, signal);
    const message = { role: 'assistant' as const, content: answer.text, refusal: null };
    return { completion: chatCompletion(completionId(), unixSeconds(), request.requestedModel, message, answer.finishReason, answer.usage) };
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame> {
    const stop = new AbortController();
    const linked = AbortSignal.any([signal, stop.signal]);
    // Admission comes before the first chunk, so a full queue is still a plain 503 response.
    const job = await this.admit(request, linked);
    if (job.ask) {
      try {
        yield* this.tokens.stream(this.tokenJob(job, job.ask, request), true, linked);
        return;
      } finally {
        this.pool.release(job.chat);
      }
    }
    const id = completionId();
    const created = unixSeconds();
    const model = request.requestedModel;
    const texts: string[] = [];
    let next = 0;
    let wake: (() => void) | undefined;
    let outcome: { answer: LlamaAnswer } | { error: unknown } | undefined;
    const running = this.run(job, linked, (text) => {
      texts.push(text);
      wake?.();
    })
      .then(
        (answer) => (outcome = { answer }),
        (error: unknown) => (outcome = { error }),
      )
      .finally(() => wake?.());
    try {
      yield { chunk: chatChunk(id, created, model, { role: 'assistant', content: '' }, null) };
      for (;;) {
        linked.throwIfAborted();
        if (next < texts.length) yield { chunk: chatChunk(id, created, model, { content: texts[next++] }, null) };
        else if (outcome) break;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      // The consumer left early or the client aborted: stop generating so the sequence frees at once.
      if (!outcome) stop.abort(new Error('stream closed by the consumer'));
      await running;
    }
    if ('error' in outcome) throw outcome.error;
    yield { chunk: chatChunk(id, created, model, {}, outcome.answer.finishReason) };
    yield { chunk: usageChunk(id, created, model, outcome.answer.usage) };
  }

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.closed || this.loaded.model.disposed) throw new Error(`llama-cpp: the model ${this.options.modelPath} is not loaded`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.close(new OverloadedError('The local model is shutting down.', 5));
    // llama.cpp frees the model in native code: a shutdown never waits on that for ever.
    if (!(await settlesWithin(this.loaded.release(), RELEASE_TIMEOUT_MS))) {
      this.logger.warn(`${this.options.modelPath} was not freed within ${RELEASE_TIMEOUT_MS} ms; the process's exit frees it`);
    }
  }

  /** Translates and checks the request, then waits for a free sequence (or refuses when the queue is full). */
  private async admit(request: BackendRequest, signal: AbortSignal): Promise<Job> {
    const generation = toGeneration(request.body.json);
    const ask = tokenAsk(request.body.json);
    if (generation.ignored.length) this.logger.warn(`Ignoring settings llama-cpp cannot honour: ${generation.ignored.join(', ')}`);
    const { chatWrapper, model } = this.loaded;
    // Prompt tokens exactly as the model will see them: the history rendered by its chat template.
    const state = chatWrapper.generateContextState({ chatHistory: generation.history });
    const prompt = state.contextText.tokenize(model.tokenizer);
    const room = this.options.contextSize - prompt.length;
    if (room < 1) {
      const message = `The messages take ${prompt.length} tokens; this model's context holds ${this.options.contextSize}.`;
      throw new ApiError({ status: 400, message, code: ERROR_CODES.contextLengthExceeded, param: 'messages' });
    }
    const grammar = await this.grammars.get(generation.format);
    const chat = await this.pool.acquire(signal);
    return { generation, chat, grammar, prompt, triggers: state.stopGenerationTriggers, maxTokens: Math.min(generation.maxTokens ?? room, room), ask };
  }

  private async run(job: Job, signal: AbortSignal, onText?: (text: string) => void): Promise<LlamaAnswer> {
    const g = job.generation;
    let completionTokens = 0;
    try {
      const penalties = g.frequencyPenalty !== undefined || g.presencePenalty !== undefined;
      const response = await job.chat.generateResponse(g.history, {
        signal,
        maxTokens: job.maxTokens,
        temperature: g.temperature,
        topP: g.topP,
        topK: g.topK,
        seed: g.seed ?? randomSeed(),
        grammar: job.grammar,
        customStopTriggers: g.stop.length ? g.stop : undefined,
        // node-llama-cpp applies a 1.1 repeat penalty by default; OpenAI applies none unless asked.
        repeatPenalty: penalties ? { penalty: 1, frequencyPenalty: g.frequencyPenalty, presencePenalty: g.presencePenalty } : false,
        onResponseChunk: (chunk) => {
          completionTokens += chunk.tokens.length;
          if (chunk.type === undefined && chunk.text) onText?.(chunk.text);
        },
      });
      const reason = finishReason(response.metadata.stopReason);
      return { text: response.response, finishReason: reason, usage: usage(job.prompt.length, completionTokens) };
    } finally {
      this.pool.release(job.chat);
    }
  }

  private tokenJob(job: Job, ask: TokenAsk, request: BackendRequest): TokenJob {
    const { generation: g, grammar, prompt } = job;
    const stops = this.sampler.stops(job.triggers, grammar, g.stop);
    const plan = {
      prompt,
      maxTokens: job.maxTokens,
      temperature: g.temperature,
      topP: g.topP,
      topK: g.topK,
      frequencyPenalty: g.frequencyPenalty,
      presencePenalty: g.presencePenalty,
      logprobs: ask.logprobs,
      topLogprobs: ask.topLogprobs,
      grammar,
      stops,
    };
    const head: ReplyHead = { id: completionId(), created: unixSeconds(), model: request.requestedModel };
    return { sequence: job.chat.sequence, plan, seed: g.seed, ask, head };
  }
}

/** Loads the model of a `llama-cpp` provider entry. */
export function create(_name: string, config: LlamaCppProviderConfig): Promise<ModelBackend> {
  return LlamaCppBackend.load(config);
}
