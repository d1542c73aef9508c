import { completionId, unixSeconds } from '../../common/ids.js';
import type { BackendRequest, ChunkFrame, CompletionFrame, CompletionUsage, ModelBackend } from '../model-backend.js';
import { chatChunk, chatCompletion, includesUsage, usageChunk } from '../openai-format.js';
import type { EchoProviderConfig } from './echo.config.js';
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

  async complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame> {
    signal.throwIfAborted();
    const answer = this.answer(request);
    const message = { role: 'assistant' as const, content: answered(answer), refusal: null };
    return { completion: chatCompletion(completionId(), unixSeconds(), request.requestedModel, message, answer.finishReason, answer.usage) };
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame> {
    const answer = this.answer(request);
    const id = completionId();
    const created = unixSeconds();
    const model = request.requestedModel;
    yield { chunk: chatChunk(id, created, model, { role: 'assistant', content: '' }, null) };
    // Tokens are made one at a time: a long message is never held twice over as a list of words.
    let sent = 0;
    for (const token of tokens(answer.text)) {
      if (sent++ === answer.count) break;
      signal.throwIfAborted();
      yield { chunk: chatChunk(id, created, model, { content: token }, null) };
    }
    yield { chunk: chatChunk(id, created, model, {}, answer.finishReason) };
    if (includesUsage(request.body.json)) yield { chunk: usageChunk(id, created, model, answer.usage) };
  }

  private answer(request: BackendRequest): EchoAnswer {
    const body = request.body.json;
    const text = lastUserText(body.messages);
    const all = countTokens(text);
    const limit = maxTokens(body);
    const count = limit !== undefined && all > limit ? limit : all;
    const prompt = promptTokens(body.messages);
    return {
      text,
      count,
      finishReason: count < all ? 'length' : 'stop',
      usage: { prompt_tokens: prompt, completion_tokens: count, total_tokens: prompt + count },
    };
  }
}

/** Builds the echo backend of a provider entry. */
export function create(_name: string, _config: EchoProviderConfig): ModelBackend {
  return new EchoBackend();
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
