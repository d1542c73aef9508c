import type { ChatCompletionChunk, ChunkFrame } from '../model-backend.js';
import type { ModelSplicer } from './openai-compatible.mapper.js';
import { closingQuote } from './top-level-key.js';

/** A parsed chunk whose text the next ones are compared with. */
interface Shape {
  /** The text up to and including the opening quote of `choices[0].delta.content`. */
  prefix: string;
  /** The text from that string's closing quote to the end. */
  suffix: string;
  /** `prefix` and `suffix` with the requested model name in place of the upstream's. */
  relayedPrefix: string;
  relayedSuffix: string;
  chunk: ChatCompletionChunk;
}

const CONTENT_KEY = '"content"';
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The chunks of one upstream stream, read without a JSON.parse for those that repeat the chunk
 * before them but for the text of `choices[0].delta.content`: in a stream from vLLM, Ollama or
 * llama.cpp's server that is nearly every chunk (same id, created, model; only the token differs).
 *
 * Why it is exact: a chunk is remembered only when its text has no backslash outside that string
 * and `"content"` occurs in it once, as that key. A text that starts with the same prefix, ends
 * with the same suffix and has a valid JSON string body between them is then valid JSON, and
 * parses to the remembered chunk with only that content changed. Anything else is parsed as usual.
 */
export class RepeatedChunks {
  private shape: Shape | undefined;

  /** `splicer` is the stream's own: it writes the requested model name into the parts remembered. */
  constructor(private readonly splicer: ModelSplicer) {}

  /** The chunk `data` holds, and its relayed text, when it repeats the remembered one but for its content; undefined otherwise. */
  read(data: string): ChunkFrame | undefined {
    const shape = this.shape;
    if (!shape) return undefined;
    const { prefix, suffix } = shape;
    const end = data.length - suffix.length;
    // Compared as slices: String.prototype.startsWith is many times slower on V8 here.
    if (end < prefix.length || data.slice(0, prefix.length) !== prefix || data.slice(end) !== suffix) return undefined;
    const escaped = stringBody(data, prefix.length, end);
    if (escaped === undefined) return undefined;
    const body = data.slice(prefix.length, end);
    const content = escaped ? (JSON.parse(`"${body}"`) as string) : body;
    const { chunk } = shape;
    const choice = chunk.choices[0];
    return { chunk: { ...chunk, choices: [{ ...choice, delta: { ...choice.delta, content } }] }, text: shape.relayedPrefix + body + shape.relayedSuffix };
  }

  /**
   * Remembers a chunk parsed from `data` (the upstream's text, its model name `upstreamModel`) and
   * relayed as the frame's text, as the one the next are compared with, when it can be one: one line,
   * a single choice with string content, no finish_reason and no usage (the chunks that carry those
   * are always parsed).
   */
  remember({ chunk, text }: ChunkFrame, data: string, upstreamModel: unknown): void {
    this.shape = undefined;
    // Relayed as text, the chunk is one line whose `"model"` occurs once (see ModelSplicer.splice).
    if (text === undefined) return;
    const choice = chunk.choices?.length === 1 ? chunk.choices[0] : undefined;
    if (!choice || typeof choice !== 'object' || choice.finish_reason != null || chunk.usage != null) return;
    if (!choice.delta || typeof choice.delta !== 'object' || typeof choice.delta.content !== 'string') return;
    const key = data.indexOf(CONTENT_KEY);
    if (key === -1 || data.indexOf(CONTENT_KEY, key + CONTENT_KEY.length) !== -1) return;
    let at = key + CONTENT_KEY.length;
    while (isSpace(data.charCodeAt(at))) at++;
    if (data.charCodeAt(at) !== 58) return;
    at++;
    while (isSpace(data.charCodeAt(at))) at++;
    if (data.charCodeAt(at) !== 34) return;
    const open = at + 1;
    const close = closingQuote(data, open);
    if (close === -1) return;
    const prefix = data.slice(0, open);
    const suffix = data.slice(close);
    if (prefix.includes('\\') || suffix.includes('\\')) return;
    // The model name is in one of the two parts; the other passes unchanged.
    const inPrefix = prefix.includes('"model"');
    const relayedPrefix = inPrefix ? this.splicer.splice(prefix, upstreamModel) : prefix;
    const relayedSuffix = inPrefix ? suffix : this.splicer.splice(suffix, upstreamModel);
    if (relayedPrefix === undefined || relayedSuffix === undefined) return;
    this.shape = { prefix, suffix, relayedPrefix, relayedSuffix, chunk };
  }
}

/**
 * Whether `text[from, to)` is the inside of a JSON string (no bare quote or control character,
 * only JSON's escapes): undefined when it is not, otherwise whether it holds an escape.
 */
export function stringBody(text: string, from: number, to: number): boolean | undefined {
  let escaped = false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c < 32) return undefined;
    if (c !== 92) continue;
    escaped = true;
    const e = text.charCodeAt(++i);
    if (e === 117) {
      if (i + 4 >= to) return undefined;
      for (let k = 0; k < 4; k++) {
        const h = text.charCodeAt(++i) | 32;
        if (!((h >= 48 && h <= 57) || (h >= 97 && h <= 102))) return undefined;
      }
    } else if (!(e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) || i >= to) {
      return undefined;
    }
  }
  return escaped;
}
