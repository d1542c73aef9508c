import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { JSON_TEXT, type ChatRequestBody } from '../model-backend.js';

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
    throw new ApiError(400, 'The request body nests too deeply to be forwarded.', 'invalid_request_error', ERROR_CODES.bodyTooDeep);
  }
}

/**
 * The model name the client asked for, written over the upstream's in a reply or chunk parsed
 * from `text`; the text itself, with the name changed in place, rides along as its JSON_TEXT.
 */
export function withRequestedModel<T extends { model?: unknown; [JSON_TEXT]?: string }>(reply: T, text: string, requestedModel: string): T {
  const spliced = spliceModel(text, reply.model, requestedModel);
  reply.model = requestedModel;
  if (spliced !== undefined) reply[JSON_TEXT] = spliced;
  return reply;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * `text` (a JSON object whose top-level `model` is `upstreamModel`) with that value replaced, or
 * undefined when that cannot be done with certainty. In valid JSON the characters `"model"` can
 * only be a string token (a quote inside a string is escaped), so when they occur once, they are
 * the top-level key. Text over several lines is left alone: a frame's data must be one line.
 */
export function spliceModel(text: string, upstreamModel: unknown, requestedModel: string): string | undefined {
  if (typeof upstreamModel !== 'string' || text.includes('\n')) return undefined;
  const key = text.indexOf('"model"');
  if (key === -1 || text.indexOf('"model"', key + 7) !== -1) return undefined;
  let at = key + 7;
  while (isSpace(text.charCodeAt(at))) at++;
  if (text.charCodeAt(at) !== 58) return undefined;
  at++;
  while (isSpace(text.charCodeAt(at))) at++;
  const written = upstreamQuoted(upstreamModel);
  if (!text.startsWith(written, at)) return undefined;
  if (upstreamModel === requestedModel) return text;
  return text.slice(0, at) + requestedQuoted(requestedModel) + text.slice(at + written.length);
}

/** JSON.stringify of the last name it was given: a stream repeats the same two names in every chunk. */
function lastQuoted(): (name: string) => string {
  let last: string | undefined;
  let quoted = '';
  return (name) => {
    if (name !== last) {
      last = name;
      quoted = JSON.stringify(name);
    }
    return quoted;
  };
}
const upstreamQuoted = lastQuoted();
const requestedQuoted = lastQuoted();
