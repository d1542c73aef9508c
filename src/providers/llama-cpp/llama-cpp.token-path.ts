import type { LlamaContextSequence } from 'node-llama-cpp';
import type { ChatCompletion, ChunkFrame } from '../model-backend.js';
import { usageChunk } from '../openai-format.js';
import { usage } from './llama-cpp.mapper.js';
import { type SampledPiece, type SamplingPlan, type TokenSampler, randomSeed } from './llama-cpp.sampler.js';
import { type ReplyHead, type TokenAsk, type TokenChoice, finishChunk, roleChunk, tokenChunk, tokenCompletion } from './llama-cpp.tokens.mapper.js';

/** A request on the token path: the sequence lent to it, how it samples, what it asked, and its reply's head. */
export interface TokenJob {
  sequence: LlamaContextSequence;
  plan: SamplingPlan;
  /** The request's seed; choice i of a seeded request uses seed + i, so choice 0 is what n = 1 answers. */
  seed?: number;
  ask: TokenAsk;
  head: ReplyHead;
}

/**
 * The requests that ask for logprobs, token ids or several choices: a request's choices one after another on its
 * sequence, each token's probability from the sampling step that drew it. The prompt is evaluated once (a later
 * choice re-evaluates only its last token). The caller lends the sequence and takes it back when a method settles.
 */
export class TokenPath {
  constructor(private readonly sampler: TokenSampler) {}

  async complete(job: TokenJob, signal: AbortSignal): Promise<ChatCompletion> {
    const choices = Array.from({ length: job.ask.n }, (): TokenChoice => ({ text: '', tokens: [], finishReason: 'length' }));
    for await (const { index, piece } of this.choices(job, signal)) {
      choices[index].text += piece.text;
      if (piece.token) choices[index].tokens.push(piece.token);
      else choices[index].finishReason = piece.finishReason;
    }
    const completionTokens = choices.reduce((sum, c) => sum + c.tokens.length, 0);
    return tokenCompletion(job.head, choices, job.ask, job.plan.prompt, usage(job.plan.prompt.length, completionTokens));
  }

  /** vLLM's order: every choice's role chunk, then each choice's tokens, a chunk each, and its finish. */
  async *stream(job: TokenJob, withUsage: boolean, signal: AbortSignal): AsyncGenerator<ChunkFrame, void, undefined> {
    const { head, ask, plan } = job;
    for (let index = 0; index < ask.n; index++) yield { chunk: roleChunk(head, index, ask, plan.prompt) };
    let completionTokens = 0;
    for await (const { index, piece } of this.choices(job, signal)) {
      if (!piece.token) {
        yield { chunk: finishChunk(head, index, piece.text, piece.finishReason) };
      } else {
        completionTokens++;
        yield { chunk: tokenChunk(head, index, piece.text, piece.token, ask) };
      }
    }
    if (withUsage) yield { chunk: usageChunk(head.id, head.created, head.model, usage(plan.prompt.length, completionTokens)) };
  }

  private async *choices(job: TokenJob, signal: AbortSignal): AsyncGenerator<{ index: number; piece: SampledPiece }> {
    for (let index = 0; index < job.ask.n; index++) {
      const seed = job.seed === undefined ? randomSeed() : (job.seed + index) >>> 0;
      for await (const piece of this.sampler.choice(job.sequence, job.plan, seed, signal)) yield { index, piece };
    }
  }
}
