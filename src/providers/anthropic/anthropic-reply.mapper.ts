import { UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isCredentialFailure, isRetryableStatus } from '../../common/errors/upstream-error-policy.js';
import { completionId, unixSeconds } from '../../common/ids.js';
import { upstreamErrorFromResponse } from '../http/upstream-errors.js';
import type { ChatCompletion, CompletionUsage } from '../model-backend.js';
import { chatCompletion } from '../openai-format.js';
import { thinkingBlockOf, type ThinkingBlock } from './thinking-blocks.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

/** Anthropic's token counts (a message's `usage`, or the running counts of a stream). */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Newer models: `thinking_tokens`, the raw reasoning the model produced (not the summarised text). */
  output_tokens_details?: { thinking_tokens?: number } | null;
}

/** One content block of a reply (text, tool_use, thinking, redacted_thinking …). */
export interface AnthropicContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  thinking?: string;
  signature?: string;
  data?: string;
}

/** A non-streamed reply of `POST /v1/messages`. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  content: (AnthropicContentBlock | null)[];
  stop_reason: string | null;
  usage?: AnthropicUsage;
}

/** Anthropic's error body: `{type: 'error', error: {type, message}}`. */
export interface AnthropicErrorBody {
  type?: unknown;
  error?: { type?: unknown; message?: unknown };
}

/** What the reply is translated for. */
export interface ReplyContext {
  /** The provider's name, for errors. */
  provider: string;
  /** The model the client asked for; the reply carries it. */
  model: string;
  /** The response_format tool, when the request used one: its call is the message content. */
  jsonTool?: string;
}

export function isAnthropicMessage(value: unknown): value is AnthropicMessage {
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'message' && Array.isArray((value as { content?: unknown }).content);
}

/**
 * OpenAI usage: cache writes and reads count as prompt tokens (Anthropic's `input_tokens` is only the
 * uncached part); `cached_tokens` are the reads, `cache_write_tokens` the writes. `reasoning_tokens`
 * is Anthropic's `thinking_tokens`; replies of models that do not count them get an estimate from
 * the thinking text (about four UTF-8 bytes a token, at most the output tokens).
 */
export function toUsage(usage: AnthropicUsage | undefined, thinkingText = ''): CompletionUsage {
  const read = usage?.cache_read_input_tokens ?? 0;
  const written = usage?.cache_creation_input_tokens ?? 0;
  const prompt = (usage?.input_tokens ?? 0) + written + read;
  const completion = usage?.output_tokens ?? 0;
  const counted = usage?.output_tokens_details?.thinking_tokens;
  const reasoning = typeof counted === 'number' ? counted : Math.min(completion, Math.ceil(Buffer.byteLength(thinkingText, 'utf8') / 4));
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read, cache_write_tokens: written },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

/** A reply that ended without a stop reason: broken, not a natural stop. */
export function noStopReason(provider: string): UpstreamError {
  return new UpstreamError({
    provider,
    status: 502,
    message: `The upstream '${provider}' reply has no stop_reason.`,
    retryable: false,
    code: ERROR_CODES.upstreamInvalidReply,
  });
}

/**
 * An Anthropic message as an OpenAI `chat.completion`: text as content, tool_use as tool calls,
 * thinking as `reasoning_content` and `reasoning`, and the signed thinking and redacted blocks, in
 * order, as `thinking_blocks` for the client to send back on its next turn.
 */
export function toChatCompletion(message: AnthropicMessage, context: ReplyContext): ChatCompletion {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: unknown[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  let json: string | undefined;
  for (const block of message.content) {
    if (block?.type === 'text') texts.push(block.text ?? '');
    else if (block?.type === 'tool_use' && context.jsonTool && block.name === context.jsonTool) json = JSON.stringify(block.input ?? {});
    else if (block?.type === 'tool_use')
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    else if (block) {
      const thinking = thinkingBlockOf(block);
      if (thinking) thinkingBlocks.push(thinking);
      if (thinking?.type === 'thinking') thoughts.push(thinking.thinking);
    }
  }
  const content = json ?? (texts.length > 0 ? texts.join('') : null);
  const reply: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content, refusal: null };
  if (thinkingBlocks.length > 0)
    Object.assign(reply, { reasoning_content: thoughts.join('\n\n'), reasoning: thoughts.join('\n\n'), thinking_blocks: thinkingBlocks });
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  const finish = mapAnthropicStopReason(message.stop_reason, json !== undefined && toolCalls.length === 0);
  if (finish === undefined) throw noStopReason(context.provider);
  const id = typeof message.id === 'string' ? message.id : completionId();
  return chatCompletion(id, unixSeconds(), context.model, reply, finish, toUsage(message.usage, thoughts.join('')));
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
export function anthropicHttpError(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  secrets: readonly string[] = [],
): UpstreamError {
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
