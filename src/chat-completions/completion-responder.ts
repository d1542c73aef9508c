import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { streamErrorEvent } from '../common/errors/error-writer.js';
import { SseWriter } from '../common/sse/sse-writer.js';
import { appConfig } from '../config/app.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ChunkFrame, CompletionFrame } from '../providers/model-backend.js';

/** An AbortSignal that fires the moment the client goes away before its reply is complete. */
export function abortOnClientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/** What writing a reply leaves for the request's record. */
export interface Written {
  /** When the first streamed chunk was written (performance.now()). */
  firstChunkAt?: number;
  /** The reply's text, kept only when bodies are logged. */
  replyText?: string;
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

  send(reply: FastifyReply, { completion, text }: CompletionFrame): Written {
    reply.type('application/json').send(text ?? completion);
    return this.logChars ? { replyText: String(completion.choices?.[0]?.message?.content ?? '').slice(0, this.logChars) } : {};
  }

  /**
   * Writes an open stream (its first chunk already there) as SSE; a failure after it ends the
   * stream with an SSE error event and no `[DONE]`. Leaving early ends the stream's iterator.
   */
  async stream(reply: FastifyReply, frames: AsyncIterator<ChunkFrame>, signal: AbortSignal): Promise<Written> {
    reply.hijack();
    const ended = this.metrics.streamStarted();
    const sse = new SseWriter(reply.raw, reply.getHeaders() as Record<string, string>);
    const firstChunkAt = performance.now();
    let text = '';
    try {
      for (let r = await frames.next(); !r.done; r = await frames.next()) {
        if (signal.aborted) break;
        const { chunk, text: json } = r.value;
        if (this.logChars && text.length < this.logChars) {
          const content = chunk.choices[0]?.delta?.content;
          if (typeof content === 'string') text += content;
        }
        // Frames of one tick leave in one write; the writer asks to wait only when the socket is full.
        const full = sse.write(json ?? JSON.stringify(chunk));
        if (full) await full;
      }
      if (!signal.aborted) sse.done();
    } catch (err) {
      if (!signal.aborted) sse.fail(streamErrorEvent(err, this.logger));
    } finally {
      ended();
      if (signal.aborted) await frames.return?.();
    }
    return this.logChars ? { firstChunkAt, replyText: text.slice(0, this.logChars) } : { firstChunkAt };
  }
}
