import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { sendError, streamErrorEvent } from '../common/errors/api-exception.filter.js';
import { SseWriter } from '../common/sse/sse-writer.js';
import { appConfig } from '../config/app.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { CompletionTrace } from '../providers/completion-trace.js';
import { JSON_TEXT, type ChatCompletion, type ChatCompletionChunk } from '../providers/model-backend.js';

/** An AbortSignal that fires the moment the client goes away before its reply is complete. */
export function abortOnClientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/** Writes replies: a JSON completion, or a stream of chunks as SSE on the raw response. */
@Injectable()
export class CompletionResponder {
  private readonly logger = new Logger('ChatCompletions');
  /** With LOG_BODIES, the most characters of a reply kept for the log line; 0 keeps none. */
  private readonly logChars: number;

  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(appConfig.KEY) config: ConfigType<typeof appConfig>,
  ) {
    this.logChars = config.LOG_BODIES === 'true' ? config.LOG_BODY_MAX_CHARS : 0;
  }

  send(reply: FastifyReply, completion: ChatCompletion, trace: CompletionTrace): void {
    if (this.logChars) trace.replyText = String(completion.choices?.[0]?.message?.content ?? '').slice(0, this.logChars);
    reply.type('application/json').send(completion[JSON_TEXT] ?? completion);
  }

  /**
   * An error before the first chunk is an ordinary error reply (its status intact); after it, an
   * SSE error event without `[DONE]`.
   */
  async stream(reply: FastifyReply, open: Promise<AsyncIterator<ChatCompletionChunk>>, signal: AbortSignal, trace: CompletionTrace): Promise<void> {
    let iterator: AsyncIterator<ChatCompletionChunk>;
    let first: IteratorResult<ChatCompletionChunk>;
    try {
      iterator = await open;
      first = await iterator.next();
    } catch (err) {
      if (!signal.aborted) sendError(reply, err, this.logger);
      return;
    }
    reply.hijack();
    const ended = this.metrics.streamStarted();
    const sse = new SseWriter(reply.raw, reply.getHeaders() as Record<string, string>);
    trace.firstChunkAt = performance.now();
    let text = '';
    try {
      for (let r = first; !r.done; r = await iterator.next()) {
        if (signal.aborted) break;
        if (this.logChars && text.length < this.logChars) text += r.value.choices[0]?.delta?.content ?? '';
        // Frames of one tick leave in one write; the writer asks to wait only when the socket is full.
        const full = sse.write(r.value[JSON_TEXT] ?? JSON.stringify(r.value));
        if (full) await full;
      }
      if (!signal.aborted) sse.done();
    } catch (err) {
      if (!signal.aborted) sse.fail(streamErrorEvent(err, this.logger));
    } finally {
      ended();
      if (this.logChars) trace.replyText = text.slice(0, this.logChars);
      if (signal.aborted) await iterator.return?.();
    }
  }
}
