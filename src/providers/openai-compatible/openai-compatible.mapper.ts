import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatCompletion, ChatCompletionChunk, ChunkFrame, CompletionFrame, RequestBody } from '../model-backend.js';
import { topLevelValueAt } from './top-level-key.js';

/**
 * The upstream request body: the client's body untouched except `model`. When the model name is
 * unchanged the JSON text the client sent is forwarded as it is, without re-serialising.
 */
export function upstreamBody(body: RequestBody, model: string): string {
  if (body.text !== undefined && body.json.model === model) return body.text;
  try {
    return JSON.stringify({ ...body.json, model });
  } catch {
    // JSON.parse takes any depth; JSON.stringify recurses and runs out of stack on hostile nesting.
    throw new ApiError({ status: 400, message: 'The request body nests too deeply to be forwarded.', code: ERROR_CODES.bodyTooDeep });
  }
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Writes the model name the client asked for over the upstream's, in the replies or chunks of one
 * request: on the object, and in place in the upstream's own text, which is then relayed as it is.
 * It keeps the quoted upstream name it last saw: a stream repeats the same name in every chunk.
 */
export class ModelSplicer {
  private upstream: string | undefined;
  private upstreamQuoted = '';
  private requestedQuoted: string | undefined;

  constructor(readonly requestedModel: string) {}

  /** A reply parsed from `text`, with the requested model name on it and, when it can be spliced in, in its text. */
  completion(completion: ChatCompletion, text: string): CompletionFrame {
    // A reply is written whole, so it may span lines (Go's encoder ends Ollama's with a newline).
    const spliced = this.spliceWhole(text, completion.model, false);
    completion.model = this.requestedModel;
    return { completion, text: spliced };
  }

  /** A chunk parsed from `text`, as {@link completion} does a reply. */
  chunk(chunk: ChatCompletionChunk, text: string): ChunkFrame {
    const spliced = this.spliceWhole(text, chunk.model, true);
    chunk.model = this.requestedModel;
    return { chunk, text: spliced };
  }

  /**
   * `text` (a JSON object whose top-level `model` is `upstreamModel`) with that value replaced by
   * the requested name, or undefined when that cannot be done with certainty. In valid JSON the
   * characters `"model"` can only be a string token (a quote inside a string is escaped), so when
   * they occur once, they are the top-level key. A chunk's text over several lines is left alone:
   * a frame's data must be one line.
   */
  splice(text: string, upstreamModel: unknown, oneLine = true): string | undefined {
    if (typeof upstreamModel !== 'string' || (oneLine && text.includes('\n'))) return undefined;
    const key = text.indexOf('"model"');
    if (key === -1 || text.indexOf('"model"', key + 7) !== -1) return undefined;
    let at = key + 7;
    while (isSpace(text.charCodeAt(at))) at++;
    if (text.charCodeAt(at) !== 58) return undefined;
    at++;
    while (isSpace(text.charCodeAt(at))) at++;
    return this.replaceAt(text, at, upstreamModel);
  }

  /**
   * As {@link splice}, for a whole object's text: when `"model"` occurs more than once (a token or
   * a message that reads "model", a nested key), the top-level key is found by walking the top level.
   */
  private spliceWhole(text: string, upstreamModel: unknown, oneLine: boolean): string | undefined {
    const quick = this.splice(text, upstreamModel, oneLine);
    if (quick !== undefined || typeof upstreamModel !== 'string' || (oneLine && text.includes('\n'))) return quick;
    const at = topLevelValueAt(text, 'model');
    return at === -1 ? undefined : this.replaceAt(text, at, upstreamModel);
  }

  /** `text` with the requested name in place of the upstream's, written as JSON at `at`; undefined when it is written otherwise. */
  private replaceAt(text: string, at: number, upstreamModel: string): string | undefined {
    if (upstreamModel !== this.upstream) {
      this.upstream = upstreamModel;
      this.upstreamQuoted = JSON.stringify(upstreamModel);
    }
    const written = this.upstreamQuoted;
    if (!text.startsWith(written, at)) return undefined;
    if (upstreamModel === this.requestedModel) return text;
    this.requestedQuoted ??= JSON.stringify(this.requestedModel);
    return text.slice(0, at) + this.requestedQuoted + text.slice(at + written.length);
  }
}
