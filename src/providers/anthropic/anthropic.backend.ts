import { Logger } from '@nestjs/common';
import { ApiError, UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { Deadline } from '../http/deadline.js';
import { probeUpstream } from '../http/probe.js';
import { readText } from '../http/read-body.js';
import { readSseData } from '../http/sse-reader.js';
import { UpstreamCall } from '../http/upstream-call.js';
import { fromTransportError, invalidReplyError } from '../http/upstream-errors.js';
import { createUpstreamPool, type UpstreamTarget } from '../http/upstream-pool.js';
import type { BackendRequest, ChunkFrame, CompletionFrame, ModelBackend } from '../model-backend.js';
import { anthropicHttpError, isAnthropicMessage, toChatCompletion } from './anthropic-reply.mapper.js';
import { AnthropicStreamMapper, type AnthropicStreamEvent } from './anthropic-stream.mapper.js';
import type { AnthropicProviderConfig } from './anthropic.config.js';
import { toAnthropicRequest } from './anthropic.mapper.js';

const ERROR_BODY_LIMIT = 1024 * 1024;
const REPLY_BODY_LIMIT = 64 * 1024 * 1024;

/** Anthropic's Messages API behind the OpenAI chat port, over an undici keep-alive pool. */
export class AnthropicBackend implements ModelBackend {
  readonly kind = 'anthropic';
  private readonly target: UpstreamTarget;
  private readonly headers: Record<string, string>;
  private readonly path: string;
  private readonly logger: Logger;

  /** `name` is the provider's name in the config (for messages and metrics). */
  constructor(
    private readonly name: string,
    private readonly config: AnthropicProviderConfig,
  ) {
    this.target = createUpstreamPool(config.baseURL);
    this.path = `${this.target.basePath}/v1/messages`;
    this.headers = { ...config.headers, 'content-type': 'application/json', 'anthropic-version': config.version };
    if (config.apiKey) this.headers['x-api-key'] = config.apiKey;
    this.logger = new Logger(`AnthropicBackend(${name})`);
  }

  async complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame> {
    const { body, jsonTool } = this.upstreamBody(request, false);
    const deadline = new Deadline(this.config.timeoutMs);
    try {
      const call = await this.send(body, signal, deadline);
      deadline.bound(call);
      const { text, truncated } = await readText(call, REPLY_BODY_LIMIT);
      if (truncated) throw this.invalidReply('is larger than the limit');
      let reply: unknown;
      try {
        reply = JSON.parse(text);
      } catch {
        throw this.invalidReply('is not valid JSON');
      }
      if (!isAnthropicMessage(reply)) throw this.invalidReply('is not a message');
      return { completion: toChatCompletion(reply, { provider: this.name, model: request.requestedModel, jsonTool }) };
    } catch (err) {
      throw fromTransportError(this.name, err, signal, this.config.timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame> {
    const { body, jsonTool } = this.upstreamBody(request, true);
    const mapper = new AnthropicStreamMapper({ provider: this.name, model: request.requestedModel, jsonTool, includeUsage: true });
    const deadline = new Deadline(this.config.timeoutMs);
    let call: UpstreamCall | undefined;
    let completed = false;
    try {
      call = await this.send(body, signal, deadline);
      deadline.watch(call);
      for await (const data of readSseData(call)) {
        // Events already buffered must not outlive an abort.
        signal.throwIfAborted();
        let event: AnthropicStreamEvent;
        try {
          event = JSON.parse(data) as AnthropicStreamEvent;
        } catch {
          throw this.invalidReply('sent a stream event that is not valid JSON');
        }
        // A ping is Anthropic's keep-alive: it shows the connection is up, not that the reply moves, so like an SSE
        // comment it does not reset the deadline. A model that thinks streams thinking deltas, which do; a longer
        // expected pause (server tools) is what a larger timeoutMs is for.
        if (event?.type !== 'ping') deadline.beat();
        for (const chunk of mapper.map(event)) yield { chunk };
        if (mapper.done) {
          completed = true;
          return;
        }
      }
      throw this.invalidReply('ended the stream before message_stop');
    } catch (err) {
      throw fromTransportError(this.name, err, signal, this.config.timeoutMs);
    } finally {
      deadline.dispose();
      call?.release(completed);
    }
  }

  /** Readiness: the API answers `GET /v1/models`. */
  check(signal: AbortSignal): Promise<void> {
    return probeUpstream(this.target, '/v1/models', this.headers, signal);
  }

  async close(): Promise<void> {
    await this.target.pool.close();
  }

  /** The Anthropic request body (and the response_format tool it uses, if any); settings it cannot honour are logged, not refused. */
  private upstreamBody(request: BackendRequest, stream: boolean): { body: string; jsonTool?: string } {
    try {
      const {
        request: body,
        warnings,
        jsonTool,
      } = toAnthropicRequest(request.body.json, { model: request.model, defaultMaxTokens: this.config.defaultMaxTokens, stream });
      if (warnings.length > 0) this.logger.warn(`${request.requestedModel}: ${warnings.join('; ')}`);
      return { body: JSON.stringify(body), jsonTool };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // A shape the translation cannot read (e.g. a tool call that is not an object), or nesting too deep to serialise.
      throw new ApiError({
        status: 400,
        message: 'The request cannot be translated for Anthropic: a message, tool or tool call is not of the expected shape.',
        code: ERROR_CODES.invalidRequest,
      });
    }
  }

  /** Sends the request; an HTTP error answer becomes an UpstreamError (its body read, bounded). */
  private async send(body: string, signal: AbortSignal, deadline: Deadline): Promise<UpstreamCall> {
    const call = await UpstreamCall.open(this.target.pool, { method: 'POST', path: this.path, headers: this.headers, body, ...deadline.timeouts }, signal);
    if (call.statusCode >= 400) {
      deadline.bound(call);
      const { text } = await readText(call, ERROR_BODY_LIMIT);
      throw anthropicHttpError(this.name, call.statusCode, call.headers, text, this.config.apiKey ? [this.config.apiKey] : []);
    }
    return call;
  }

  private invalidReply(what: string): UpstreamError {
    return invalidReplyError(this.name, what);
  }
}

/** Builds the backend of an `anthropic` provider entry. */
export function create(name: string, config: AnthropicProviderConfig): ModelBackend {
  return new AnthropicBackend(name, config);
}
