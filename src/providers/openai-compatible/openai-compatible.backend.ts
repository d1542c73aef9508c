import type { Dispatcher } from 'undici';
import { UpstreamError } from '../../common/errors/api-error.js';
import { Deadline } from '../http/deadline.js';
import { probeUpstream } from '../http/probe.js';
import { readText } from '../http/read-body.js';
import { readSseData } from '../http/sse-reader.js';
import { fromTransportError, upstreamErrorFromResponse } from '../http/upstream-errors.js';
import { createUpstreamPool, type UpstreamTarget } from '../http/upstream-pool.js';
import type { BackendRequest, ChatCompletion, ChatCompletionChunk, ModelBackend } from '../model-backend.js';
import { upstreamBody, withRequestedModel } from './openai-compatible.mapper.js';

export interface OpenAiCompatibleOptions {
  /** The provider's name in the config (for messages and metrics). */
  name: string;
  baseURL: string;
  apiKey?: string;
  /** Deadline for a whole non-streamed reply, and for the silence between streamed chunks. */
  timeoutMs: number;
  /** Extra headers sent upstream (e.g. OpenRouter's attribution headers). */
  headers?: Record<string, string>;
  /** Largest reply body accepted from the upstream. */
  maxResponseBytes?: number;
}

const ERROR_BODY_LIMIT = 1024 * 1024;

/** Any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, SGLang, OpenAI, OpenRouter …) over an undici keep-alive pool. */
export class OpenAiCompatibleBackend implements ModelBackend {
  readonly kind = 'openai';
  private readonly target: UpstreamTarget;
  private readonly headers: Record<string, string>;
  private readonly path: string;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.target = createUpstreamPool(options.baseURL);
    this.path = `${this.target.basePath}/chat/completions`;
    this.headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
  }

  async complete(request: BackendRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const deadline = new Deadline(signal, this.options.timeoutMs);
    try {
      const res = await this.send(request, deadline.signal);
      const { text, truncated } = await readText(res.body, this.options.maxResponseBytes ?? 64 * 1024 * 1024);
      if (truncated) throw this.invalidReply('is larger than the configured limit');
      let reply: ChatCompletion;
      try {
        reply = JSON.parse(text) as ChatCompletion;
      } catch {
        throw this.invalidReply('is not valid JSON');
      }
      if (!reply || typeof reply !== 'object' || !Array.isArray(reply.choices)) throw this.invalidReply('is not a chat.completion');
      return withRequestedModel(reply, request.requestedModel);
    } catch (err) {
      throw fromTransportError(this.options.name, err, deadline.signal, this.options.timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChatCompletionChunk> {
    const deadline = new Deadline(signal, this.options.timeoutMs);
    let res: Dispatcher.ResponseData | undefined;
    let finished = false;
    try {
      res = await this.send(request, deadline.signal);
      for await (const data of readSseData(res.body)) {
        deadline.touch();
        if (data === '[DONE]') return;
        let chunk: ChatCompletionChunk & { error?: unknown };
        try {
          chunk = JSON.parse(data);
        } catch {
          throw this.invalidReply('sent a stream event that is not valid JSON');
        }
        if (chunk.error !== undefined) throw upstreamErrorFromResponse(this.options.name, 502, {}, data);
        if (chunk.choices?.some((c) => c.finish_reason)) finished = true;
        yield withRequestedModel(chunk, request.requestedModel);
      }
      // Some servers omit [DONE]; a stream cut before any finish_reason is a failure, not a short answer.
      if (!finished) throw this.invalidReply('ended the stream before it finished');
    } catch (err) {
      throw fromTransportError(this.options.name, err, deadline.signal, this.options.timeoutMs);
    } finally {
      deadline.dispose();
      if (res && !res.body.destroyed) res.body.destroy();
    }
  }

  /** Readiness: the server answers `GET {baseURL}/models`. */
  check(signal: AbortSignal): Promise<void> {
    return probeUpstream(this.target, '/models', this.headers, signal);
  }

  async close(): Promise<void> {
    await this.target.pool.close();
  }

  /** Sends the request; an HTTP error answer becomes an UpstreamError (its body read, bounded). */
  private async send(request: BackendRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const res = await this.target.pool.request({
      method: 'POST',
      path: this.path,
      headers: this.headers,
      body: upstreamBody(request.body, request.rawBody, request.model),
      signal,
    });
    if (res.statusCode >= 400) {
      const { text } = await readText(res.body, ERROR_BODY_LIMIT);
      throw upstreamErrorFromResponse(this.options.name, res.statusCode, res.headers, text);
    }
    return res;
  }

  private invalidReply(what: string): UpstreamError {
    return new UpstreamError(this.options.name, 502, `The upstream '${this.options.name}' reply ${what}.`, false, undefined, undefined, 'upstream_invalid_reply');
  }
}
