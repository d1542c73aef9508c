import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequestBody, CompletionUsage } from '../model-backend.js';

// The token path's side of the OpenAI contract: what a request asks of it, and replies in the shapes vLLM writes.

/** What a request asks that only the token path gives: several choices, logprobs, token ids. */
export interface TokenAsk {
  n: number;
  logprobs: boolean;
  /** Runners-up per token (0 to 20), the sampled token first as vLLM writes them. */
  topLogprobs: number;
  /** vLLM's `return_token_ids`: top-level `prompt_token_ids` and `choices[].token_ids`. */
  tokenIds: boolean;
  /** vLLM's `return_tokens_as_token_ids`: logprobs tokens written `token_id:<id>`. */
  asTokenIds: boolean;
}

/** A generated token as the sampler drew it; `piece` is its text (special tokens by name), set when logprobs are asked. */
export interface SampledToken {
  id: number;
  logprob: number;
  piece: string;
  top: { id: number; logprob: number; piece: string }[];
}

/** One finished choice of the token path. */
export interface TokenChoice {
  text: string;
  tokens: SampledToken[];
  finishReason: 'stop' | 'length';
}

/** The id, time and model every object of one reply carries. */
export interface ReplyHead {
  id: string;
  created: number;
  model: string;
}

export const MAX_TOP_LOGPROBS = 20;
export const MAX_N = 128;

const refuse = (param: string, message: string) => new ApiError({ status: 400, message, code: ERROR_CODES.invalidRequest, param });
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * What the request asks of the token path, or undefined for a request the ordinary path serves (one choice, no
 * logprobs, no token ids). Throws a 400 naming the field for what llama-cpp cannot honour.
 */
export function tokenAsk(body: ChatRequestBody): TokenAsk | undefined {
  for (const key of ['logprobs', 'return_token_ids', 'return_tokens_as_token_ids'] as const) {
    if (body[key] != null && typeof body[key] !== 'boolean') throw refuse(key, `'${key}' must be a boolean.`);
  }
  const n = body.n ?? 1;
  if (!isInt(n, 1, MAX_N)) throw refuse('n', `'n' must be an integer from 1 to ${MAX_N}.`);
  const top = body.top_logprobs ?? 0;
  if (!isInt(top, 0, MAX_TOP_LOGPROBS)) throw refuse('top_logprobs', `'top_logprobs' must be an integer from 0 to ${MAX_TOP_LOGPROBS}.`);
  const logprobs = body.logprobs === true;
  if (top > 0 && !logprobs) throw refuse('top_logprobs', "'top_logprobs' needs 'logprobs': true.");
  const tokenIds = body.return_token_ids === true;
  if (!logprobs && !tokenIds && n === 1) return undefined;
  for (const key of ['tools', 'functions'] as const) {
    const value = body[key];
    if ((logprobs || tokenIds) && value != null && !(Array.isArray(value) && value.length === 0)) {
      const asked = logprobs ? 'logprobs' : 'return_token_ids';
      throw refuse(
        key,
        `'${asked}' with '${key}' is not supported by this local model: it cannot call tools, so the tokens would not be those of a tool call. Send the request without '${key}', or to a model that serves tools.`,
      );
    }
  }
  return { n, logprobs, topLogprobs: top, tokenIds, asTokenIds: body.return_tokens_as_token_ids === true };
}

const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];

/** `logprobs.content` as vLLM writes it: an entry's `bytes` are its text's, a runner-up's are those of its `token` string. */
export function logprobsContent(tokens: readonly SampledToken[], asTokenIds: boolean) {
  const name = (t: { id: number; piece: string }) => (asTokenIds ? `token_id:${t.id}` : t.piece);
  return tokens.map((t) => ({
    token: name(t),
    logprob: t.logprob,
    bytes: utf8(t.piece),
    top_logprobs: t.top.map((r) => ({ token: name(r), logprob: r.logprob, bytes: utf8(name(r)) })),
  }));
}

const choiceLogprobs = (tokens: readonly SampledToken[], ask: TokenAsk) =>
  ask.logprobs ? { content: logprobsContent(tokens, ask.asTokenIds), refusal: null } : null;

/** The non-streamed reply: a choice per generation, `prompt_token_ids` last when asked, as vLLM orders it. */
export function tokenCompletion(
  head: ReplyHead,
  choices: readonly TokenChoice[],
  ask: TokenAsk,
  promptIds: readonly number[],
  usage: CompletionUsage,
): ChatCompletion {
  return {
    id: head.id,
    object: 'chat.completion',
    created: head.created,
    model: head.model,
    choices: choices.map((c, index) => ({
      index,
      message: { role: 'assistant', content: c.text, refusal: null },
      logprobs: choiceLogprobs(c.tokens, ask),
      finish_reason: c.finishReason,
      ...(ask.tokenIds ? { token_ids: c.tokens.map((t) => t.id) } : {}),
    })),
    usage,
    ...(ask.tokenIds ? { prompt_token_ids: [...promptIds] } : {}),
  };
}

/** A chunk carrying one choice's delta; `extra` goes on the choice. */
function chunk(
  head: ReplyHead,
  choice: ChatCompletionChunk['choices'][number] & Record<string, unknown>,
  extra: Record<string, unknown> = {},
): ChatCompletionChunk {
  return { id: head.id, object: 'chat.completion.chunk', created: head.created, model: head.model, choices: [choice], ...extra };
}

/** A choice's first chunk; vLLM puts `prompt_token_ids` on every role chunk. */
export function roleChunk(head: ReplyHead, index: number, ask: TokenAsk, promptIds: readonly number[]): ChatCompletionChunk {
  const choice = { index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
  return chunk(head, choice, ask.tokenIds ? { prompt_token_ids: [...promptIds] } : {});
}

/** One generated token: its text (`''` while held back), logprobs and id. */
export function tokenChunk(head: ReplyHead, index: number, text: string, token: SampledToken, ask: TokenAsk): ChatCompletionChunk {
  const choice = { index, delta: { content: text }, logprobs: choiceLogprobs([token], ask), finish_reason: null };
  return chunk(head, ask.tokenIds ? { ...choice, token_ids: [token.id] } : choice);
}

/** A choice's last chunk: the text held back until the end, if any, and the finish reason. */
export function finishChunk(head: ReplyHead, index: number, text: string, finishReason: string): ChatCompletionChunk {
  return chunk(head, { index, delta: text ? { content: text } : {}, logprobs: null, finish_reason: finishReason });
}
