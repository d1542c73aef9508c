import { ApiError } from '../../common/errors/api-error.js';
import type { ChatRequestBody } from '../model-backend.js';

/**
 * The upstream request body: the client's body untouched except `model`. When the model name is
 * unchanged the JSON text the client sent is forwarded as it is, without re-serialising.
 */
export function upstreamBody(body: ChatRequestBody, rawBody: string | undefined, model: string): string {
  if (rawBody !== undefined && body.model === model) return rawBody;
  try {
    return JSON.stringify({ ...body, model });
  } catch {
    // JSON.parse takes any depth; JSON.stringify recurses and runs out of stack on hostile nesting.
    throw new ApiError(400, 'The request body nests too deeply to be forwarded.', 'invalid_request_error', 'body_too_deep');
  }
}

/** The model name the client asked for, written over the upstream's in a reply or chunk. */
export function withRequestedModel<T extends { model?: unknown }>(reply: T, requestedModel: string): T {
  reply.model = requestedModel;
  return reply;
}
