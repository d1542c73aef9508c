import type { ChatCompletion, ChatCompletionChunk, ChatRequestBody, CompletionUsage } from './model-backend.js';

// The OpenAI objects that backends building their own replies write, one literal each: every backend sends the same shape.

type AssistantMessage = ChatCompletion['choices'][number]['message'];

/** A `chat.completion` with one choice. */
export function chatCompletion(
  id: string,
  created: number,
  model: string,
  message: AssistantMessage,
  finishReason: string | null,
  usage: CompletionUsage,
): ChatCompletion {
  return { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }], usage };
}

/** A `chat.completion.chunk` carrying one choice's delta. */
export function chatChunk(id: string, created: number, model: string, delta: Record<string, unknown>, finishReason: string | null): ChatCompletionChunk {
  return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
}

/** The chunk `stream_options.include_usage` asks for, after the finish reason: no choices, the usage. */
export function usageChunk(id: string, created: number, model: string, usage: CompletionUsage): ChatCompletionChunk {
  return { id, object: 'chat.completion.chunk', created, model, choices: [], usage };
}

/** Whether the client asked for a usage chunk at the end of the stream (`stream_options.include_usage: true`). */
export function includesUsage(body: ChatRequestBody): boolean {
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return options?.include_usage === true;
}

/**
 * The text of a message's content: a string as it is, or the `text` of its text parts joined with
 * `separator`. Any other part goes to `other`, which may give text to take in its place (or
 * undefined to leave it out: a backend logs what it ignores).
 */
export function messageText(content: unknown, separator: string, other?: (part: unknown, index: number) => string | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as { type?: unknown; text?: unknown } | null;
    const t = part !== null && typeof part === 'object' && part.type === 'text' && typeof part.text === 'string' ? part.text : other?.(part, i);
    if (t !== undefined) text += (text ? separator : '') + t;
  }
  return text;
}
