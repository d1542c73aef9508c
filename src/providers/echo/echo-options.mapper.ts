import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatRequestBody } from '../model-backend.js';

/** The most choices echo makes for one request (OpenAI allows 128): it bounds what one request can make echo write. */
export const ECHO_MAX_N = 16;
/** OpenAI's bound on `top_logprobs`. */
export const ECHO_MAX_TOP_LOGPROBS = 20;
const INT64 = 2 ** 63;

/** What a request asks of echo beyond the text: the fields a training rollout sends. */
export interface EchoOptions {
  /** Choices to make (`n`). */
  n: number;
  /** `seed`; 0 when the request has none, so echo stays deterministic without one. */
  seed: number;
  /** `logprobs`. */
  logprobs: boolean;
  /** `top_logprobs` (0 when absent or null). */
  topLogprobs: number;
  /** `return_tokens_as_token_ids`: logprobs name tokens `token_id:<id>`. */
  tokensAsIds: boolean;
  /** `return_token_ids`: `prompt_token_ids` and `choices[].token_ids`. */
  tokenIds: boolean;
}

/** Reads the rollout fields of a request; a value OpenAI would refuse is a 400 naming the field, as OpenAI words it. */
export function echoOptions(body: ChatRequestBody): EchoOptions {
  const logprobs = flag(body, 'logprobs');
  const topLogprobs = integer(body, 'top_logprobs', 0, ECHO_MAX_TOP_LOGPROBS) ?? 0;
  if (topLogprobs > 0 && !logprobs) {
    throw invalid('top_logprobs', ERROR_CODES.invalidValue, "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.");
  }
  return {
    n: integer(body, 'n', 1, ECHO_MAX_N) ?? 1,
    seed: integer(body, 'seed', -INT64, INT64 - 1) ?? 0,
    logprobs,
    topLogprobs,
    tokensAsIds: flag(body, 'return_tokens_as_token_ids'),
    tokenIds: flag(body, 'return_token_ids'),
  };
}

/** Whether a reply needs more than one plain echo: several choices, logprobs or token ids. */
export function isRollout(options: EchoOptions): boolean {
  return options.n > 1 || options.logprobs || options.tokenIds;
}

function integer(body: ChatRequestBody, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || (Number.isFinite(v) && !Number.isInteger(v))) {
    throw invalid(field, ERROR_CODES.invalidType, `Invalid type for '${field}': expected an integer, but got ${typeName(v)} instead.`);
  }
  // max is inclusive; 2**63 - 1 is not a double, so the int64 bound compares as `>= 2**63`.
  if (v > max || (max === INT64 - 1 && v >= INT64)) {
    throw invalid(
      field,
      ERROR_CODES.integerAboveMaxValue,
      `Invalid '${field}': integer above maximum value. Expected a value <= ${boundText(max)}, but got ${v} instead.`,
    );
  }
  if (v < min) {
    throw invalid(
      field,
      ERROR_CODES.integerBelowMinValue,
      `Invalid '${field}': integer below minimum value. Expected a value >= ${boundText(min)}, but got ${v} instead.`,
    );
  }
  return v;
}

function flag(body: ChatRequestBody, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(field, ERROR_CODES.invalidType, `Invalid type for '${field}': expected a boolean, but got ${typeName(v)} instead.`);
  return v;
}

const invalid = (param: string, code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES], message: string) => new ApiError({ status: 400, message, code, param });

const boundText = (bound: number) => (bound === INT64 - 1 ? '9223372036854775807' : bound === -INT64 ? '-9223372036854775808' : String(bound));

function typeName(v: unknown): string {
  if (typeof v === 'number') return 'a decimal number';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? 'a string' : `a ${typeof v}`;
}
