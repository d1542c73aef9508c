import type { Redis } from 'ioredis';
import { UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { parseCheckpoint } from '../checkpoint-name.js';
import { RedisAdapterState } from '../checkpoints/redis-adapter-state.js';
import { Deadline } from '../http/deadline.js';
import { probeUpstream } from '../http/probe.js';
import { readText } from '../http/read-body.js';
import { SseEventTooLarge, SseParser } from '../http/sse-reader.js';
import { UpstreamCall } from '../http/upstream-call.js';
import { fromTransportError, invalidReplyError, upstreamErrorFromResponse } from '../http/upstream-errors.js';
import { createUpstreamPool, type UpstreamTarget } from '../http/upstream-pool.js';
import type { BackendRequest, ChatCompletion, ChatCompletionChunk, ChunkFrame, CompletionFrame, ModelBackend } from '../model-backend.js';
import type { RouterEvents } from '../router-events.js';
import { AdapterApi } from './adapter-api.js';
import { type Adapters, LoraAdapters } from './lora-adapters.js';
import type { OpenAiProviderConfig } from './openai-compatible.config.js';
import { ModelSplicer, upstreamBody } from './openai-compatible.mapper.js';
import { RepeatedChunks } from './repeated-chunks.js';
import { SharedLoraAdapters } from './shared-lora-adapters.js';

/** vLLM's answer for a model (adapter) it does not serve. */
function isModelMissing(err: unknown): boolean {
  return err instanceof UpstreamError && err.status === 404 && /does not exist|not found/i.test(err.message);
}

const NO_RELEASE = (): void => undefined;

const ERROR_BODY_LIMIT = 1024 * 1024;

/** How long a replica's lease on an adapter in use lasts in Redis unless renewed (every third of it). */
const ADAPTER_LEASE_MS = 15_000;
/** Beyond a load's own deadline, how long its lock may outlive a replica that died holding it. */
const ADAPTER_LOCK_MARGIN_MS = 5_000;

/** Any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, SGLang, OpenAI, OpenRouter …) over an undici keep-alive pool. */
export class OpenAiCompatibleBackend implements ModelBackend {
  readonly kind = 'openai';
  private readonly target: UpstreamTarget;
  private readonly headers: Record<string, string>;
  private readonly path: string;
  private readonly adapters?: Adapters;
  /** Never relayed to a client, even when an upstream quotes it. */
  private readonly secrets: string[];

  /** `name` is the provider's name in the config (for messages and metrics); with `redis`, adapter state is shared with other replicas. */
  constructor(
    private readonly name: string,
    private readonly config: OpenAiProviderConfig,
    events: RouterEvents,
    redis?: Redis | null,
  ) {
    this.target = createUpstreamPool(config.baseURL);
    this.path = `${this.target.basePath}/chat/completions`;
    this.headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...config.headers };
    if (config.apiKey) this.headers.authorization = `Bearer ${config.apiKey}`;
    this.secrets = config.apiKey ? [config.apiKey] : [];
    const adapters = config.adapters;
    if (adapters && redis) {
      const times = { leaseMs: ADAPTER_LEASE_MS, lockMs: adapters.loadTimeoutMs + ADAPTER_LOCK_MARGIN_MS };
      const state = new RedisAdapterState(redis, config.baseURL.replace(/\/+$/, ''), adapters.maxLoaded, times);
      this.adapters = new SharedLoraAdapters(name, new AdapterApi(name, this.target, this.headers, adapters, this.secrets), state, events);
    } else if (adapters) {
      this.adapters = new LoraAdapters(name, this.target, this.headers, adapters, events, this.secrets);
    }
  }

  holds(model: string): boolean {
    return this.adapters?.holds(model) ?? false;
  }

  loadedModels(): string[] {
    return this.adapters?.list() ?? [];
  }

  async complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame> {
    const deadline = new Deadline(this.config.timeoutMs);
    let release: () => void = NO_RELEASE;
    try {
      const sent = await this.send(request, signal, deadline);
      release = sent.release;
      deadline.bound(sent.call);
      const { text, truncated } = await readText(sent.call, this.config.maxResponseBytes);
      if (truncated) throw this.invalidReply('is larger than the configured limit');
      let reply: ChatCompletion;
      try {
        reply = JSON.parse(text) as ChatCompletion;
      } catch {
        throw this.invalidReply('is not valid JSON');
      }
      if (!reply || typeof reply !== 'object' || !Array.isArray(reply.choices)) throw this.invalidReply('is not a chat.completion');
      return new ModelSplicer(request.requestedModel).completion(reply, text);
    } catch (err) {
      throw fromTransportError(this.name, err, signal, this.config.timeoutMs);
    } finally {
      release();
      deadline.dispose();
    }
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame> {
    const deadline = new Deadline(this.config.timeoutMs);
    let call: UpstreamCall | undefined;
    let finished = false;
    let completed = false;
    let release: () => void = NO_RELEASE;
    try {
      const sent = await this.send(request, signal, deadline);
      release = sent.release;
      call = sent.call;
      deadline.watch(call);
      const parser = new SseParser(this.config.maxResponseBytes);
      const splicer = new ModelSplicer(request.requestedModel);
      const repeated = new RepeatedChunks(splicer);
      // Events are split synchronously per read: the only awaits per chunk are the read and the consumer's.
      for (;;) {
        const bytes = await call.read();
        const events = bytes === null ? parser.end() : parser.push(bytes);
        // Only a completed data event counts against the deadline: keep-alive comments do not.
        if (events.length > 0) deadline.beat();
        for (const data of events) {
          if (data === '[DONE]') {
            completed = true;
            return;
          }
          // Most chunks repeat the one before but for their content (never a finish_reason): no JSON.parse for those.
          let frame = repeated.read(data);
          if (!frame) {
            frame = this.frameOf(data, splicer, repeated);
            if (!finished && frame.chunk.choices?.some((c) => c.finish_reason)) finished = true;
          }
          yield frame;
        }
        if (bytes === null) break;
      }
      // Some servers omit [DONE]; a stream cut before any finish_reason is a failure, not a short answer.
      if (!finished) throw this.invalidReply('ended the stream before it finished');
    } catch (err) {
      if (err instanceof SseEventTooLarge) throw this.invalidReply('sent a stream event larger than the configured limit');
      throw fromTransportError(this.name, err, signal, this.config.timeoutMs);
    } finally {
      deadline.dispose();
      release();
      call?.release(completed);
    }
  }

  /** Readiness: the server answers `GET {baseURL}/models`. */
  check(signal: AbortSignal): Promise<void> {
    return probeUpstream(this.target, '/models', this.headers, signal);
  }

  async close(): Promise<void> {
    await this.adapters?.close?.();
    await this.target.pool.close();
  }

  /**
   * Sends the request, first loading its LoRA adapter when it names one. A target that answers
   * that the adapter does not exist (it restarted) gets it loaded again, once.
   */
  private async send(request: BackendRequest, signal: AbortSignal, deadline: Deadline): Promise<{ call: UpstreamCall; release: () => void }> {
    if (!request.adapter || !this.adapters) return { call: await this.post(request, request.model, signal, deadline), release: NO_RELEASE };
    const checkpoint = parseCheckpoint(request.model, request.requestedModel);
    for (let reloaded = false; ; reloaded = true) {
      const lease = await this.adapters.acquire(checkpoint, signal);
      try {
        return { call: await this.post(request, lease.loraName, signal, deadline), release: lease.release };
      } catch (err) {
        lease.release();
        if (!isModelMissing(err)) throw err;
        this.adapters.forget(checkpoint.id);
        if (reloaded) {
          const message = `The upstream '${this.name}' does not serve the checkpoint '${checkpoint.id}' even after loading it again.`;
          throw new UpstreamError({ provider: this.name, status: 502, message, retryable: false, code: ERROR_CODES.adapterUnavailable });
        }
      }
    }
  }

  /** POSTs the chat request for `model`; an HTTP error answer becomes an UpstreamError (its body read, bounded). */
  private async post(request: BackendRequest, model: string, signal: AbortSignal, deadline: Deadline): Promise<UpstreamCall> {
    const call = await UpstreamCall.open(
      this.target.pool,
      { method: 'POST', path: this.path, headers: this.headers, body: upstreamBody(request.body, model), ...deadline.timeouts },
      signal,
    );
    if (call.statusCode >= 400) {
      deadline.bound(call);
      const { text } = await readText(call, ERROR_BODY_LIMIT);
      throw upstreamErrorFromResponse(this.name, call.statusCode, call.headers, text, this.secrets);
    }
    return call;
  }

  /** One event's data, parsed, as a frame whose chunk (and text, when it can be spliced) carries the requested model name; remembered for the chunks that repeat it. */
  private frameOf(data: string, splicer: ModelSplicer, repeated: RepeatedChunks): ChunkFrame {
    let chunk: ChatCompletionChunk & { error?: unknown };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      throw this.invalidReply('sent a stream event that is not valid JSON');
    }
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) throw this.invalidReply('sent a stream event that is not a JSON object');
    if (chunk.error !== undefined) throw upstreamErrorFromResponse(this.name, 502, {}, data, this.secrets);
    const upstreamModel = chunk.model;
    const frame = splicer.chunk(chunk, data);
    repeated.remember(frame, data, upstreamModel);
    return frame;
  }

  private invalidReply(what: string): UpstreamError {
    return invalidReplyError(this.name, what);
  }
}

/** Builds the backend of an `openai` provider entry. */
export function create(name: string, config: OpenAiProviderConfig, events: RouterEvents, redis?: Redis | null): ModelBackend {
  return new OpenAiCompatibleBackend(name, config, events, redis);
}
