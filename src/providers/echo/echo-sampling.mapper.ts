import type { ChatMessage } from '../model-backend.js';
import { messageText } from '../openai-format.js';
import { isSpace, PART_SEPARATOR, tokens } from './echo.mapper.js';

// What echo "samples" when it plays a model for a training loop: everything is a pure function of the token
// text, or of (seed, choice index, position), so a stream and a plain reply carry the same values.

/** Words offered as the runners-up in `top_logprobs` (one more than the 19 a top-20 list needs beside the token itself). */
const ALTERNATIVES = [
  'the',
  'policy',
  'answers',
  'with',
  'a',
  'few',
  'plain',
  'words',
  'about',
  'reward',
  'step',
  'token',
  'value',
  'gradient',
  'sample',
  'batch',
  'trained',
  'checkpoint',
  'rollout',
  'model',
];
const LN2 = Math.log(2);

/** One `logprobs.content[]` entry, as vLLM writes it. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** Echo's token id: a 31-bit FNV-1a hash of the token's text, the same in every request, process and replica. */
export function tokenId(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

/** `prompt_token_ids`: the ids of every message's tokens, the tokens `usage.prompt_tokens` counts. */
export function promptTokenIds(messages: ChatMessage[]): number[] {
  const ids: number[] = [];
  for (const m of messages) for (const token of tokens(messageText(m?.content, PART_SEPARATOR))) ids.push(tokenId(token));
  return ids;
}

/** The draws of one choice: seeded by the request's seed and the choice's index. */
export class ChoiceSampler {
  private readonly base: number;

  constructor(
    seed: number,
    readonly index: number,
  ) {
    // Both 32-bit halves of the seed, so seeds that differ only above 2**32 still differ.
    const low = seed >>> 0;
    const high = Math.floor(seed / 2 ** 32) >>> 0;
    this.base = fmix(fmix(fmix(low) ^ Math.imul(high, 0x9e3779b1)) ^ Math.imul(index + 1, 0x85ebca77));
  }

  /**
   * How many of the answer's `all` tokens this choice says before it stops: choice 0 says them all (it is
   * the plain echo), every other choice stops after a seeded number of them, so choices differ in length.
   */
  length(all: number): number {
    if (this.index === 0 || all === 0) return all;
    return 1 + Math.floor(this.draw(0, 0) * all);
  }

  /**
   * The entry for the token at `position`: the token is the likeliest (p in [0.5, 0.99)), then `top - 1`
   * runners-up that share the rest of the mass, each half the one before (so the probabilities sum below 1).
   */
  logprob(token: string, position: number, top: number, asIds: boolean): TokenLogprob {
    const name = asIds ? `token_id:${tokenId(token)}` : token;
    const p = 0.5 + 0.49 * this.draw(position, 1);
    const logprob = Math.log(p);
    const entry: TokenLogprob = { token: name, logprob, bytes: utf8(token), top_logprobs: [] };
    if (top === 0) return entry;
    entry.top_logprobs.push({ token: name, logprob, bytes: asIds ? utf8(name) : entry.bytes });
    const rest = Math.log1p(-p);
    const others = runnersUp(token.slice(0, leadingSpace(token)));
    let k = Math.floor(this.draw(position, 2) * others.length);
    for (let rank = 1; rank < top; k++) {
      const other = others[k % others.length];
      if (other.piece === token) continue;
      const named = asIds ? other.id : other.plain;
      entry.top_logprobs.push({ token: named.token, logprob: rest - rank * LN2, bytes: named.bytes });
      rank++;
    }
    return entry;
  }

  /** A uniform number in [0, 1) for (position, salt). */
  private draw(position: number, salt: number): number {
    return fmix(fmix(this.base ^ Math.imul(position + 1, 0xcc9e2d51)) ^ Math.imul(salt + 1, 0x1b873593)) / 2 ** 32;
  }
}

/** MurmurHash3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface RunnerUp {
  piece: string;
  /** The piece as `token` and `bytes` of a top entry, and the same named `token_id:<id>`. */
  plain: { token: string; bytes: number[] };
  id: { token: string; bytes: number[] };
}

function runnerUp(piece: string): RunnerUp {
  const id = `token_id:${tokenId(piece)}`;
  return { piece, plain: { token: piece, bytes: utf8(piece) }, id: { token: id, bytes: utf8(id) } };
}

// Made once: after a space or at the start is where nearly every token is.
const SPACED = ALTERNATIVES.map((w) => runnerUp(` ${w}`));
const BARE = ALTERNATIVES.map((w) => runnerUp(w));

/** The runners-up of a token that starts with `lead` (its white space). */
function runnersUp(lead: string): RunnerUp[] {
  if (lead === ' ') return SPACED;
  if (lead === '') return BARE;
  return ALTERNATIVES.map((w) => runnerUp(lead + w));
}

/** UTF-8 bytes; ASCII, the usual case, without a Buffer. */
function utf8(s: string): number[] {
  const out = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return [...Buffer.from(s, 'utf8')];
    out[i] = c;
  }
  return out;
}

function leadingSpace(token: string): number {
  let i = 0;
  while (i < token.length && isSpace(token.charCodeAt(i))) i++;
  return i;
}
