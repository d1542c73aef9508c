import { randomInt } from 'node:crypto';
import type { LlamaContextSequence, LlamaGrammar, LlamaGrammarEvaluationState, LlamaModel, LlamaText, Token } from 'node-llama-cpp';
import { StopText } from './llama-cpp.stop-text.js';
import type { SampledToken } from './llama-cpp.tokens.mapper.js';

/** How one request samples on the token path; every choice of it samples the same way. */
export interface SamplingPlan {
  /** The prompt's token ids, exactly as evaluated (the chat template rendered, BOS included). */
  prompt: Token[];
  maxTokens: number;
  temperature: number;
  topP: number;
  topK?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Whether each token's logprob and text are wanted, and how many runners-up. */
  logprobs: boolean;
  topLogprobs: number;
  grammar?: LlamaGrammar;
  stops: Stops;
}

/** Where a choice stops: text (the client's `stop`, a template's or grammar's text triggers) or token sequences (end of turn). */
export interface Stops {
  texts: string[];
  tokens: Token[][];
  /** A grammar's `trimWhitespaceSuffix`: trailing white space is not part of the answer. */
  trimEnd: boolean;
}

type Trigger = LlamaText | string | readonly (string | Token)[];

/** A generated token and the text it made final (`''` while text is held back); the last piece has `finishReason` instead. */
export type SampledPiece =
  { token: SampledToken; text: string; finishReason?: undefined } | { token?: undefined; text: string; finishReason: 'stop' | 'length' };

/** Recent tokens the detokenizer looks at to space a piece right, and the tokens a repeat penalty weighs (as LlamaChat does). */
const CONTEXT_TOKENS = 16;
const PENALTY_TOKENS = 64;
/** vLLM writes an impossible token's logprob as this instead of -Infinity (which JSON cannot hold). */
const LOG_ZERO = -9999;

const logOf = (p: number) => Math.min(0, Math.max(Math.log(p), LOG_ZERO));

/** A seed for a request without one: node-llama-cpp's default is the current second, so such requests within a second would repeat each other. */
export const randomSeed = () => randomInt(2 ** 32);

/**
 * Samples with node-llama-cpp's sequence API, which reports each token's probability from the same sampling step
 * that picks it: the prompt and every token are evaluated once. The probabilities are those of the distribution
 * the token was drawn from (after grammar, penalties, temperature, top-k and top-p), vLLM's `processed_logprobs`.
 */
export class TokenSampler {
  constructor(
    private readonly model: LlamaModel,
    private readonly grammarState: (grammar: LlamaGrammar) => LlamaGrammarEvaluationState,
  ) {}

  /** The stops of a request: the chat template's triggers, the grammar's, and the client's `stop` strings. */
  stops(templateTriggers: readonly LlamaText[], grammar: LlamaGrammar | undefined, stop: readonly string[]): Stops {
    const stops: Stops = { texts: [...stop], tokens: [], trimEnd: grammar?.trimWhitespaceSuffix ?? false };
    const triggers: readonly Trigger[] = [...templateTriggers, ...(grammar?.stopGenerationTriggers ?? [])];
    for (const trigger of triggers) {
      const values: readonly unknown[] = typeof trigger === 'string' ? [trigger] : isLlamaText(trigger) ? trigger.values : trigger;
      if (values.every((v) => typeof v === 'string')) stops.texts.push(values.join(''));
      else if (isLlamaText(trigger)) stops.tokens.push(trigger.tokenize(this.model.tokenizer));
      else stops.tokens.push(values.flatMap((v) => (typeof v === 'string' ? this.model.tokenize(v) : [v as Token])));
    }
    stops.texts = stops.texts.filter(Boolean);
    stops.tokens = stops.tokens.filter((t) => t.length > 0);
    return stops;
  }

  /** Generates one choice on `sequence`, reusing what it already holds of the prompt. */
  async *choice(sequence: LlamaContextSequence, plan: SamplingPlan, seed: number, signal: AbortSignal): AsyncGenerator<SampledPiece, void, undefined> {
    const { model } = this;
    const text = new StopText(plan.stops.texts, plan.stops.trimEnd);
    const generated: Token[] = [];
    /** Tokens whose text is out, and the ones after them whose text is an incomplete UTF-8 character so far. */
    const texted: Token[] = [];
    let partial: Token[] = [];
    const nl = model.tokens.nl;
    // Keep what the sequence holds of this prompt (an earlier request's KV cache), but evaluate at least its last token.
    await sequence.adaptStateToTokens(plan.prompt.slice(0, -1), false);
    signal.throwIfAborted();
    const penalties = plan.frequencyPenalty !== undefined || plan.presencePenalty !== undefined;
    const steps = sequence.evaluateWithMetadata(
      plan.prompt.slice(sequence.nextTokenIndex),
      { confidence: true, probabilities: plan.topLogprobs > 0 },
      {
        temperature: plan.temperature,
        topP: plan.topP,
        topK: plan.topK,
        seed,
        grammarEvaluationState: plan.grammar && this.grammarState(plan.grammar),
        repeatPenalty: penalties
          ? {
              punishTokens: () => generated.slice(-PENALTY_TOKENS).filter((t) => t !== nl),
              maxPunishTokens: PENALTY_TOKENS,
              penalty: 1,
              frequencyPenalty: plan.frequencyPenalty,
              presencePenalty: plan.presencePenalty,
            }
          : undefined,
        yieldEogToken: true,
      },
    );
    // Leaving this loop early (a stop, the token limit, an abort, the consumer gone) ends the evaluation.
    for await (const step of steps) {
      signal.throwIfAborted();
      // Under a second JavaScript realm (a test VM) node-llama-cpp's `instanceof Array` misreads the native result.
      if (typeof step.token !== 'number' || typeof step.confidence !== 'number') throw new Error('node-llama-cpp returned an unreadable sampling result');
      const id = step.token;
      const before = generated.slice(-CONTEXT_TOKENS);
      generated.push(id);
      const token: SampledToken = { id, logprob: logOf(step.confidence), piece: '', top: [] };
      if (plan.logprobs) {
        token.piece = model.detokenize([id], true, before);
        const probabilities = (step as { probabilities?: Map<Token, number> }).probabilities;
        if (probabilities) token.top = this.runnersUp(token, probabilities, plan.topLogprobs, before);
      }
      const stopToken = model.isEogToken(id) || plan.stops.tokens.some((t) => endsWith(generated, t));
      if (!stopToken) partial.push(id);
      let released = '';
      if (partial.length) {
        const piece = model.detokenize(partial, false, texted.slice(-CONTEXT_TOKENS));
        // A byte token may end mid-character: its text waits for the next token (four bytes at most).
        if (stopToken || !piece.endsWith('\uFFFD') || partial.length >= 4) {
          released = text.push(piece);
          texted.push(...partial);
          partial = [];
        }
      }
      yield { token, text: released };
      if (stopToken || text.stopped) {
        yield { text: text.end(), finishReason: 'stop' };
        return;
      }
      if (generated.length >= plan.maxTokens) break;
    }
    // Only the token limit ends a generation without a stop.
    const rest = partial.length ? text.push(model.detokenize(partial, false, texted.slice(-CONTEXT_TOKENS))) : '';
    yield { text: rest + text.end(), finishReason: text.stopped ? 'stop' : 'length' };
  }

  /** vLLM's order: the sampled token first, then the likeliest others; tokens that could not be drawn are left out. */
  private runnersUp(token: SampledToken, probabilities: Map<Token, number>, count: number, before: Token[]): SampledToken['top'] {
    const top = [{ id: token.id, logprob: token.logprob, piece: token.piece }];
    for (const [id, p] of probabilities) {
      if (top.length >= count) break;
      if (id === token.id || !(p > 0)) continue;
      top.push({ id, logprob: logOf(p), piece: this.model.detokenize([id], true, before) });
    }
    return top;
  }
}

function isLlamaText(trigger: Trigger): trigger is LlamaText {
  return typeof trigger === 'object' && !Array.isArray(trigger);
}

function endsWith(tokens: readonly Token[], tail: readonly Token[]): boolean {
  if (tail.length > tokens.length) return false;
  for (let i = 1; i <= tail.length; i++) if (tokens[tokens.length - i] !== tail[tail.length - i]) return false;
  return true;
}
