import { completionId, unixSeconds } from '../../common/ids.js';
import type { BackendRequest, ChatCompletion, ChatCompletionChunk, CompletionUsage, ModelBackend } from '../model-backend.js';
import { countTokens, lastUserText, maxTokens, promptTokens, tokens } from './echo.mapper.js';

interface EchoAnswer {
  /** The text echoed back, and how many of its tokens to send. */
  text: string;
  count: number;
  finishReason: 'stop' | 'length';
  usage: CompletionUsage;
}

/**
 * Answers with the last user message's text, word by word. Deterministic, needs no model:
 * the default on a fresh machine and the target of platform integration tests.
 */
export class EchoBackend implements ModelBackend {
  readonly kind = 'echo';

  async complete(request: BackendRequest, signal: AbortSignal): Promise<ChatCompletion> {
    signal.throwIfAborted();
    const answer = this.answer(request);
    return {
      id: completionId(),
      object: 'chat.completion',
      created: unixSeconds(),
      model: request.requestedModel,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answered(answer), refusal: null },
          finish_reason: answer.finishReason,
          logprobs: null,
        },
      ],
      usage: answer.usage,
    };
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChatCompletionChunk> {
    const answer = this.answer(request);
    const id = completionId();
    const created = unixSeconds();
    const chunk = (delta: Record<string, unknown>, finish: string | null): ChatCompletionChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: request.requestedModel,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    yield chunk({ role: 'assistant', content: '' }, null);
    // Tokens are made one at a time: a long message is never held twice over as a list of words.
    let sent = 0;
    for (const token of tokens(answer.text)) {
      if (sent++ === answer.count) break;
      signal.throwIfAborted();
      yield chunk({ content: token }, null);
    }
    yield chunk({}, answer.finishReason);
    const options = request.body.stream_options as { include_usage?: unknown } | null | undefined;
    if (options?.include_usage === true) {
      yield { id, object: 'chat.completion.chunk', created, model: request.requestedModel, choices: [], usage: answer.usage };
    }
  }

  private answer(request: BackendRequest): EchoAnswer {
    const text = lastUserText(request.body.messages);
    const all = countTokens(text);
    const limit = maxTokens(request.body);
    const count = limit !== undefined && all > limit ? limit : all;
    const prompt = promptTokens(request.body.messages);
    return {
      text,
      count,
      finishReason: count < all ? 'length' : 'stop',
      usage: { prompt_tokens: prompt, completion_tokens: count, total_tokens: prompt + count },
    };
  }
}

/** The first `count` tokens of the answer's text, joined (the whole text when none are cut). */
function answered(answer: EchoAnswer): string {
  if (answer.count === 0) return '';
  if (answer.finishReason === 'stop') return answer.text;
  let length = 0;
  let n = 0;
  for (const token of tokens(answer.text)) {
    if (n++ === answer.count) break;
    length += token.length;
  }
  return answer.text.slice(0, length);
}
