import type { ChatMessage } from '../model-backend.js';
import { messageText } from '../openai-format.js';

/** Text parts are joined with a space: echo answers them as words. */
export const PART_SEPARATOR = ' ';

/** What echo answers: the text of the last user message, or '' when there is none. */
export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i].content, PART_SEPARATOR);
  }
  return '';
}

/** Whether a UTF-16 code unit is white space as JavaScript's `\s` defines it. */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Echo's tokens, one scan and no backtracking: each word with the white space before it, the last
 * word also with the white space after it, so joining them gives the text back (white space alone
 * gives no token). One word is one token; that is how echo counts usage.
 */
export function* tokens(text: string): Generator<string> {
  const n = text.length;
  let from = 0;
  while (from < n) {
    let word = from;
    while (word < n && isSpace(text.charCodeAt(word))) word++;
    if (word === n) return;
    let end = word;
    while (end < n && !isSpace(text.charCodeAt(end))) end++;
    let rest = end;
    while (rest < n && isSpace(text.charCodeAt(rest))) rest++;
    if (rest === n) end = n;
    yield text.slice(from, end);
    from = end;
  }
}

/** The number of echo tokens (words) in a text, without making them. */
export function countTokens(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

/** Prompt tokens: the words of every message's text content. */
export function promptTokens(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += countTokens(messageText(m?.content, PART_SEPARATOR));
  return n;
}

/** The client's output limit (`max_completion_tokens` wins over `max_tokens`), if it set a valid one. */
export function maxTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** The text of the first `count` of a text's `all` tokens (the whole text when none are left out). */
export function prefix(text: string, count: number, all: number): string {
  if (count >= all) return text;
  let length = 0;
  let n = 0;
  for (const token of tokens(text)) {
    if (n++ === count) break;
    length += token.length;
  }
  return text.slice(0, length);
}
