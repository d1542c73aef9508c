import type { RequestBody } from '../model-backend.js';
import { includesUsage } from '../openai-format.js';

/** Which of the fields a trainable route adds an upstream is asked for (a server that does not know one is spared it). */
export interface TrainingFields {
  /** `logprobs: true`, with the client's `top_logprobs` (else 0: vLLM gives none for `null`). */
  logprobs: boolean;
  /** `return_tokens_as_token_ids: true`: logprobs tokens written `token_id:<id>`. */
  returnTokensAsTokenIds: boolean;
  /** `return_token_ids: true`: `prompt_token_ids` and `choices[].token_ids`. */
  returnTokenIds: boolean;
  /** `stream_options.include_usage: true` on streams. */
  includeUsage: boolean;
}

export const ALL_TRAINING_FIELDS: TrainingFields = { logprobs: true, returnTokensAsTokenIds: true, returnTokenIds: true, includeUsage: true };

/** The body a trainable route sends, and whether its stream's usage chunk is one the client did not ask for. */
export interface TrainingBody {
  body: RequestBody;
  usageAdded: boolean;
}

/**
 * The client's body with what training needs set, whatever the client asked: a new body (without
 * the client's text) when anything changes, the client's own otherwise. `stream_options` is only
 * ever added to a stream (vLLM refuses it on a plain request).
 */
export function trainingBody(body: RequestBody, fields: TrainingFields): TrainingBody {
  const json = body.json;
  const stream = json.stream === true;
  const changes: Record<string, unknown> = {};
  if (fields.logprobs) {
    if (json.logprobs !== true) changes.logprobs = true;
    if (json.top_logprobs === undefined || json.top_logprobs === null) changes.top_logprobs = 0;
  }
  if (fields.returnTokensAsTokenIds && json.return_tokens_as_token_ids !== true) changes.return_tokens_as_token_ids = true;
  if (fields.returnTokenIds && json.return_token_ids !== true) changes.return_token_ids = true;
  const usageAdded = stream && fields.includeUsage && !includesUsage(json);
  if (usageAdded) {
    const options = json.stream_options !== null && typeof json.stream_options === 'object' ? json.stream_options : {};
    changes.stream_options = { ...options, include_usage: true };
  }
  return Object.keys(changes).length > 0 ? { body: { json: { ...json, ...changes } }, usageAdded } : { body, usageAdded };
}
