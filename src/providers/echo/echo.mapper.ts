import type { ChatMessage } from '../model-backend.js';

/** The text of a message's content: a string, or the `text` of its text parts joined. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text') {
      const t = (part as { text?: unknown }).text;
      if (typeof t === 'string') text += (text ? ' ' : '') + t;
    }
  }
  return text;
}

/** What echo answers: the text of the last user message, or '' when there is none. */
export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i].content);
  }
  return '';
}

/**
 * Echo's tokens: each word with the white space before it, so joining them gives the text back.
 * One word is one token; that is how echo counts usage.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+(?:\s+$)?/g) ?? [];
}

/** Prompt tokens: the words of every message's text content. */
export function promptTokens(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += tokenize(messageText(m?.content)).length;
  return n;
}

/** The client's output limit (`max_completion_tokens` wins over `max_tokens`), if it set a valid one. */
export function maxTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
