import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { completionId, unixSeconds } from '../../common/ids.js';
import type { BackendRequest, ChatCompletionChunk, ChunkFrame, CompletionFrame, ModelBackend } from '../model-backend.js';
import { chatChunk, chatCompletion, usageChunk } from '../openai-format.js';
import { echoOptions, isRollout } from './echo-options.mapper.js';
import { ChoiceSampler, promptTokenIds, tokenId } from './echo-sampling.mapper.js';
import { rolloutReply, type EchoAnswer, type EchoChoice } from './echo-reply.mapper.js';
import type { EchoProviderConfig } from './echo.config.js';
import { countTokens, lastUserText, maxTokens, prefix, promptTokens, tokens } from './echo.mapper.js';

/** The most prompt token ids a stream writes over all its role chunks (n × the prompt's ids). */
export const MAX_STREAMED_PROMPT_IDS = 4_000_000;

/**
 * Answers with the last user message's text, word by word. Deterministic, needs no model: the default
 * on a fresh machine, the target of platform integration tests, and a training-loop double (`n`, `seed`,
 * logprobs and token ids, from echo-sampling.mapper.ts).
 */
export class EchoBackend implements ModelBackend {
  readonly kind = 'echo';

  async complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame> {
    signal.throwIfAborted();
    const answer = this.answer(request);
    const { text, all, options } = answer;
    const id = completionId();
    const created = unixSeconds();
    const first = answer.choices[0];
    if (!isRollout(options)) {
      const message = { role: 'assistant' as const, content: prefix(text, first.count, all), refusal: null };
      return { completion: chatCompletion(id, created, request.requestedModel, message, first.finishReason, answer.usage) };
    }
    const { choices, promptTokenIds } = rolloutReply(answer, request.body.json.messages);
    const completion = chatCompletion(id, created, request.requestedModel, choices[0].message, first.finishReason, answer.usage);
    completion.choices = choices;
    if (promptTokenIds) completion.prompt_token_ids = promptTokenIds;
    return { completion };
  }

  /** vLLM's order: a role chunk per choice, then one chunk per choice and token, each carrying one choice. */
  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame> {
    const answer = this.answer(request);
    const { options } = answer;
    const id = completionId();
    const created = unixSeconds();
    const model = request.requestedModel;
    const chunk = (index: number, delta: Record<string, unknown>, finishReason: string | null, extra?: object): ChatCompletionChunk => {
      const c = chatChunk(id, created, model, delta, finishReason);
      if (index !== 0 || extra) Object.assign(c.choices[0], { index }, extra);
      return c;
    };
    const prompt = options.tokenIds ? promptTokenIds(request.body.json.messages) : undefined;
    // Every role chunk carries the prompt's ids (as vLLM's do): n copies are written, so their total is bounded.
    if (prompt && prompt.length * options.n > MAX_STREAMED_PROMPT_IDS) {
      throw new ApiError({
        status: 400,
        message: `With 'return_token_ids', echo streams the prompt's ${prompt.length} token ids once per choice: at most ${MAX_STREAMED_PROMPT_IDS} in all. Ask for fewer choices ('n') or send a shorter prompt.`,
        code: ERROR_CODES.invalidRequest,
        param: 'n',
      });
    }
    for (let i = 0; i < options.n; i++) {
      const role = chunk(i, { role: 'assistant', content: '' }, null);
      if (prompt) role.prompt_token_ids = prompt;
      yield { chunk: role };
    }
    // Tokens are made one at a time: a long message is never held twice over as a list of words.
    const left = answer.choices.map((choice) => ({ choice, tokens: tokens(answer.text), done: false }));
    for (let position = 0, open = left.length; open > 0; position++) {
      for (const l of left) {
        if (l.done) continue;
        const { sampler, count, finishReason } = l.choice;
        if (position === count) {
          l.done = true;
          open--;
          yield { chunk: chunk(sampler.index, {}, finishReason, options.tokenIds ? { token_ids: [] } : undefined) };
          continue;
        }
        const token = l.tokens.next().value as string;
        signal.throwIfAborted();
        let extra: object | undefined;
        if (options.logprobs || options.tokenIds) {
          extra = {
            logprobs: options.logprobs ? { content: [sampler.logprob(token, position, options.topLogprobs, options.tokensAsIds)], refusal: null } : null,
            ...(options.tokenIds ? { token_ids: [tokenId(token)] } : {}),
          };
        }
        yield { chunk: chunk(sampler.index, { content: token }, null, extra) };
      }
    }
    yield { chunk: usageChunk(id, created, model, answer.usage) };
  }

  /** Everything the reply says, decided before its first byte: a request echo refuses is refused here. */
  private answer(request: BackendRequest): EchoAnswer {
    const body = request.body.json;
    const options = echoOptions(body);
    const text = lastUserText(body.messages);
    const all = countTokens(text);
    const limit = maxTokens(body);
    const choices: EchoChoice[] = [];
    let completion = 0;
    for (let i = 0; i < options.n; i++) {
      const sampler = new ChoiceSampler(options.seed, i);
      const natural = sampler.length(all);
      const count = limit !== undefined && natural > limit ? limit : natural;
      choices.push({ sampler, count, finishReason: count < natural ? 'length' : 'stop' });
      completion += count;
    }
    const prompt = promptTokens(body.messages);
    return { text, all, options, choices, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
  }
}

/** Builds the echo backend of a provider entry. */
export function create(_name: string, _config: EchoProviderConfig): ModelBackend {
  return new EchoBackend();
}
