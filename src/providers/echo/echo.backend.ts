import { completionId, unixSeconds } from '../../common/ids.js';
import type { BackendRequest, ChatCompletion, ChatCompletionChunk, CompletionUsage, ModelBackend } from '../model-backend.js';
import { lastUserText, maxTokens, promptTokens, tokenize } from './echo.mapper.js';

interface EchoAnswer {
  tokens: string[];
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
          message: { role: 'assistant', content: answer.tokens.join(''), refusal: null },
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
    for (const token of answer.tokens) {
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
    const all = tokenize(lastUserText(request.body.messages));
    const limit = maxTokens(request.body);
    const tokens = limit !== undefined && all.length > limit ? all.slice(0, limit) : all;
    const prompt = promptTokens(request.body.messages);
    return {
      tokens,
      finishReason: tokens.length < all.length ? 'length' : 'stop',
      usage: { prompt_tokens: prompt, completion_tokens: tokens.length, total_tokens: prompt + tokens.length },
    };
  }
}
