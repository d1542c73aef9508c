import type { ChatRequestBody } from '../model-backend.js';

/**
 * The upstream request body: the client's body untouched except `model`. When the model name is
 * unchanged the JSON text the client sent is forwarded as it is, without re-serialising.
 */
export function upstreamBody(body: ChatRequestBody, rawBody: string | undefined, model: string): string {
  if (rawBody !== undefined && body.model === model) return rawBody;
  return JSON.stringify({ ...body, model });
}

/** The model name the client asked for, written over the upstream's in a reply or chunk. */
export function withRequestedModel<T extends { model?: unknown }>(reply: T, requestedModel: string): T {
  reply.model = requestedModel;
  return reply;
}
