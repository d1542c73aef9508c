import { UpstreamError } from '../../common/errors/api-error.js';
import { isCredentialFailure, isRetryableStatus } from '../../common/errors/upstream-error-policy.js';
import { completionId, unixSeconds } from '../../common/ids.js';
import { upstreamErrorFromResponse } from '../http/upstream-errors.js';
import type { ChatCompletion, CompletionUsage } from '../model-backend.js';
import { chatCompletion } from '../openai-format.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

/** Anthropic's token counts (a message's `usage`, or the running counts of a stream). */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A non-streamed reply of `POST /v1/messages`. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  content: ({ type: string; text?: string; id?: string; name?: string; input?: unknown } | null)[];
  stop_reason: string | null;
  usage?: AnthropicUsage;
}

/** Anthropic's error body: `{type: 'error', error: {type, message}}`. */
export interface AnthropicErrorBody {
  type?: unknown;
  error?: { type?: unknown; message?: unknown };
}

export function isAnthropicMessage(value: unknown): value is AnthropicMessage {
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'message' && Array.isArray((value as { content?: unknown }).content);
}

/** OpenAI usage: cache writes and reads count as prompt tokens, as OpenAI counts cached input. */
export function toUsage(usage: AnthropicUsage | undefined): CompletionUsage {
  const cached = usage?.cache_read_input_tokens ?? 0;
  const prompt = (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + cached;
  const completion = usage?.output_tokens ?? 0;
  const out: CompletionUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cached > 0) out.prompt_tokens_details = { cached_tokens: cached };
  return out;
}

/** An Anthropic message as an OpenAI `chat.completion` for the model the client asked for. */
export function toChatCompletion(message: AnthropicMessage, requestedModel: string): ChatCompletion {
  const texts: string[] = [];
  const toolCalls: unknown[] = [];
  for (const block of message.content) {
    if (block?.type === 'text') texts.push(block.text ?? '');
    else if (block?.type === 'tool_use') toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
  }
  const reply: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null, refusal: null };
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  const id = typeof message.id === 'string' ? message.id : completionId();
  return chatCompletion(id, unixSeconds(), requestedModel, reply, mapAnthropicStopReason(message.stop_reason), toUsage(message.usage));
}

/** The status an Anthropic error type stands for when it arrives inside a stream (no HTTP status left to read). */
const STREAM_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
};

/** An Anthropic HTTP error answer as an UpstreamError carrying an OpenAI-shaped error body. */
export function anthropicHttpError(provider: string, status: number, headers: Record<string, string | string[] | undefined>, text: string, secrets: readonly string[] = []): UpstreamError {
  const generic = upstreamErrorFromResponse(provider, status, headers, text, secrets);
  if (isCredentialFailure(status)) return generic;
  const upstream = generic.body as AnthropicErrorBody | undefined;
  const type = upstream?.type === 'error' && typeof upstream.error?.type === 'string' ? upstream.error.type : generic.type;
  const body = { error: { message: generic.message, type, param: null, code: null } };
  return new UpstreamError({ provider, status, message: generic.message, retryable: generic.retryable, body, retryAfterMs: generic.retryAfterMs });
}

/** An `error` event inside a stream: overloaded and api errors are the upstream's (502, retryable), the rest keep their meaning. */
export function anthropicStreamError(provider: string, body: AnthropicErrorBody): UpstreamError {
  const type = typeof body.error?.type === 'string' ? body.error.type : 'api_error';
  const message = typeof body.error?.message === 'string' ? body.error.message : `The upstream '${provider}' sent an error event.`;
  const status = STREAM_ERROR_STATUS[type] ?? 502;
  return new UpstreamError({ provider, status, message, retryable: isRetryableStatus(status), body: { error: { message, type, param: null, code: null } } });
}
