import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { sendError } from '../common/errors/api-exception.filter.js';
import { SseWriter } from '../common/sse/sse-writer.js';
import type { ChatCompletionChunk } from '../providers/model-backend.js';

const logger = new Logger('ChatCompletions');

/** An AbortSignal that fires the moment the client goes away before its reply is complete. */
export function abortOnClientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/**
 * Writes a backend's chunks as SSE on the raw response. An error before the first chunk is an
 * ordinary error reply (its status intact); after it, an SSE error event without `[DONE]`.
 */
export async function streamCompletion(reply: FastifyReply, chunks: AsyncIterable<ChatCompletionChunk>, signal: AbortSignal): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  let first: IteratorResult<ChatCompletionChunk>;
  try {
    first = await iterator.next();
  } catch (err) {
    if (!signal.aborted) sendError(reply, err, logger);
    return;
  }
  reply.hijack();
  const sse = new SseWriter(reply.raw, reply.getHeaders() as Record<string, string>);
  try {
    for (let r = first; !r.done; r = await iterator.next()) {
      if (signal.aborted) break;
      await sse.write(JSON.stringify(r.value));
    }
    if (!signal.aborted) sse.done();
  } catch (err) {
    if (!signal.aborted) sendError(reply, err, logger);
  } finally {
    if (signal.aborted) await iterator.return?.();
  }
}
