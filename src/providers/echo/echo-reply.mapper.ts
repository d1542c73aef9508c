import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatCompletion, ChatMessage, CompletionUsage } from '../model-backend.js';
import type { EchoOptions } from './echo-options.mapper.js';
import { promptTokenIds, tokenId, type ChoiceSampler, type TokenLogprob } from './echo-sampling.mapper.js';
import { prefix, tokens } from './echo.mapper.js';

/** One choice of an answer: how many of the text's tokens it says, and why it stops. */
export interface EchoChoice {
  sampler: ChoiceSampler;
  count: number;
  finishReason: 'stop' | 'length';
}

/** Everything a reply says, decided before its first byte. */
export interface EchoAnswer {
  /** The text echoed back, and how many tokens it has. */
  text: string;
  all: number;
  options: EchoOptions;
  choices: EchoChoice[];
  usage: CompletionUsage;
}

/**
 * The most JSON, in characters (estimated), of a reply echo does not stream once it is more than one plain
 * echo: 16 choices with top-20 logprobs of a 10 MB message would otherwise be gigabytes held at once. A
 * stream is made a token at a time and has no such bound.
 */
export const REPLY_BUDGET_CHARS = 32 * 1024 * 1024;

/** The choices (and `prompt_token_ids`) of a reply with several choices, logprobs or token ids, as vLLM writes them. */
export function rolloutReply(answer: EchoAnswer, messages: ChatMessage[]): { choices: ChatCompletion['choices']; promptTokenIds?: number[] } {
  const budget = new ReplyBudget(answer);
  const choices = answer.choices.map((choice) => rolloutChoice(answer, choice, budget));
  return answer.options.tokenIds ? { choices, promptTokenIds: promptTokenIds(messages) } : { choices };
}

function rolloutChoice({ text, all, options }: EchoAnswer, choice: EchoChoice, budget: ReplyBudget): ChatCompletion['choices'][number] {
  const content = prefix(text, choice.count, all);
  // Before any entry is made: a huge token is refused before its bytes are.
  budget.spendText(content.length);
  const entries: TokenLogprob[] = [];
  const ids: number[] = [];
  if (options.logprobs || options.tokenIds) {
    let position = 0;
    for (const token of tokens(text)) {
      if (position === choice.count) break;
      if (options.logprobs) entries.push(choice.sampler.logprob(token, position, options.topLogprobs, options.tokensAsIds));
      if (options.tokenIds) ids.push(tokenId(token));
      position++;
    }
  }
  const out: ChatCompletion['choices'][number] & { token_ids?: number[] } = {
    index: choice.sampler.index,
    message: { role: 'assistant', content, refusal: null },
    finish_reason: choice.finishReason,
    logprobs: options.logprobs ? { content: entries, refusal: null } : null,
  };
  if (options.tokenIds) out.token_ids = ids;
  return out;
}

// JSON characters, near enough: a token id (31 bits and a comma); an entry's keys and number; one runner-up
// (keys, number, a word and its bytes), and what naming it `token_id:<id>` adds; a character of text in
// `content`, and again in an entry's token and bytes.
const ID_CHARS = 11;
const ENTRY_CHARS = 64;
const RUNNER_UP_CHARS = 80;
const ID_NAME_CHARS = 70;
const TEXT_CHARS = 1;
const ENTRY_TEXT_CHARS = 5;

/**
 * What is left of REPLY_BUDGET_CHARS. Every token's share is known from the counts, so it is charged at
 * once (a request far over is refused before anything is made); the text's share as each choice's text is cut.
 */
class ReplyBudget {
  private left = REPLY_BUDGET_CHARS;
  private readonly perChar: number;

  constructor(private readonly answer: EchoAnswer) {
    const { logprobs, topLogprobs, tokensAsIds, tokenIds } = answer.options;
    const runnerUp = RUNNER_UP_CHARS + (tokensAsIds ? ID_NAME_CHARS : 0);
    const perToken = (logprobs ? ENTRY_CHARS + (tokensAsIds ? ID_CHARS : 0) + topLogprobs * runnerUp : 0) + (tokenIds ? ID_CHARS : 0);
    this.perChar = TEXT_CHARS + (logprobs ? ENTRY_TEXT_CHARS : 0);
    this.spend(answer.usage.completion_tokens * perToken + (tokenIds ? answer.usage.prompt_tokens * ID_CHARS : 0));
  }

  spendText(chars: number): void {
    this.spend(chars * this.perChar);
  }

  private spend(chars: number): void {
    this.left -= chars;
    if (this.left >= 0) return;
    const { n, topLogprobs } = this.answer.options;
    throw new ApiError({
      status: 400,
      code: ERROR_CODES.invalidRequest,
      message: `This echo reply (n=${n}, top_logprobs=${topLogprobs}) would be larger than the ${REPLY_BUDGET_CHARS / 1024 / 1024} MiB echo builds without streaming: set 'stream' to true, or ask for fewer choices ('n'), fewer 'top_logprobs' or fewer tokens ('max_completion_tokens').`,
    });
  }
}
