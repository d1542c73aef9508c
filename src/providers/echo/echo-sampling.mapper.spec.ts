import { ChoiceSampler, promptTokenIds, tokenId } from './echo-sampling.mapper.js';
import { promptTokens, tokens } from './echo.mapper.js';

const bytes = (s: string) => [...Buffer.from(s, 'utf8')];

/** FNV-1a as its specification writes it, on BigInt, over UTF-16 code units: what tokenId must agree with. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5n;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * 0x01000193n) % 2n ** 32n;
  return Number(h >> 1n);
}

describe('echo token ids', () => {
  it('are FNV-1a of the token text, in 31 bits', () => {
    for (const t of ['', 'a', ' hello', '\n\nworld  ', 'é', '語', '\ud83d\ude00', '\ud800', 'x'.repeat(1000)]) {
      expect({ t, id: tokenId(t) }).toEqual({ t, id: fnv1a(t) });
      expect(tokenId(t)).toBeGreaterThanOrEqual(0);
      expect(tokenId(t)).toBeLessThan(2 ** 31);
    }
    expect(tokenId('a')).toBe(0xe40c292c >>> 1);
  });

  it('tell apart the 5,000 tokens of a generated text, a word with and without its leading space included', () => {
    const words = Array.from({ length: 2500 }, (_, i) => `w${i.toString(36)}`);
    const seen = new Map<number, string>();
    for (const token of [...words, ...words.map((w) => ` ${w}`)]) {
      expect({ token, clash: seen.get(tokenId(token)) }).toEqual({ token, clash: undefined });
      seen.set(tokenId(token), token);
    }
  });

  it('give the prompt one id for each token usage.prompt_tokens counts', () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hello big' },
          { type: 'image_url', image_url: { url: 'x' } },
          { type: 'text', text: 'world' },
        ],
      },
      { role: 'assistant', content: null },
      { role: 'user', content: '  spaced\n out  ' },
    ];
    expect(promptTokenIds(messages)).toEqual(['be', ' brief', 'hello', ' big', ' world', '  spaced', '\n out  '].map(tokenId));
    expect(promptTokenIds(messages)).toHaveLength(promptTokens(messages));
  });
});

describe('ChoiceSampler', () => {
  const text = 'the quick brown fox jumps over the lazy dog again';
  const all = [...tokens(text)].length;
  const entries = (s: ChoiceSampler, top = 5, asIds = false) => [...tokens(text)].map((t, i) => s.logprob(t, i, top, asIds));

  it('is a pure function of seed, choice and position', () => {
    expect(entries(new ChoiceSampler(7, 1))).toEqual(entries(new ChoiceSampler(7, 1)));
    expect(new ChoiceSampler(7, 1).length(all)).toBe(new ChoiceSampler(7, 1).length(all));
    expect(entries(new ChoiceSampler(7, 1))).not.toEqual(entries(new ChoiceSampler(7, 2)));
    expect(entries(new ChoiceSampler(7, 1))).not.toEqual(entries(new ChoiceSampler(8, 1)));
    // Seeds that differ only above 2**32 (or in sign) are different seeds.
    expect(entries(new ChoiceSampler(7, 0))).not.toEqual(entries(new ChoiceSampler(7 + 2 ** 32, 0)));
    expect(entries(new ChoiceSampler(7, 0))).not.toEqual(entries(new ChoiceSampler(-7, 0)));
  });

  it('says the whole text as choice 0, and a seeded number of its tokens (at least one) as any other choice', () => {
    for (let seed = 0; seed < 50; seed++) expect(new ChoiceSampler(seed, 0).length(all)).toBe(all);
    const lengths = new Set<number>();
    for (let seed = 0; seed < 50; seed++) {
      for (let index = 1; index < 16; index++) {
        const n = new ChoiceSampler(seed, index).length(all);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(all);
        lengths.add(n);
      }
    }
    expect([...lengths].sort((a, b) => a - b)).toEqual(Array.from({ length: all }, (_, i) => i + 1));
    expect(new ChoiceSampler(3, 4).length(0)).toBe(0);
  });

  it.each([0, 1, 5, 20])('writes entries as vLLM does, with top_logprobs %i: the token first and likeliest, runners-up halving, never null', (top) => {
    for (let seed = 0; seed < 20; seed++) {
      for (const [i, e] of entries(new ChoiceSampler(seed, seed % 3), top).entries()) {
        const token = [...tokens(text)][i];
        expect(e.token).toBe(token);
        expect(e.bytes).toEqual(bytes(token));
        expect(e.logprob).toBeGreaterThanOrEqual(Math.log(0.5));
        expect(e.logprob).toBeLessThan(Math.log(0.99));
        expect(e.top_logprobs).toHaveLength(top);
        if (!top) continue;
        expect(e.top_logprobs[0]).toEqual({ token, logprob: e.logprob, bytes: bytes(token) });
        expect(new Set(e.top_logprobs.map((t) => t.token)).size).toBe(top);
        const lead = token.match(/^\s*/)![0];
        for (const t of e.top_logprobs) {
          expect(t.token.startsWith(lead) && !/^\s/.test(t.token.slice(lead.length))).toBe(true);
          expect(t.bytes).toEqual(bytes(t.token));
        }
        for (let k = 1; k < top; k++) expect(e.top_logprobs[k].logprob).toBeLessThan(e.top_logprobs[k - 1].logprob);
        expect(e.top_logprobs.reduce((sum, t) => sum + Math.exp(t.logprob), 0)).toBeLessThan(1);
      }
    }
  });

  it('names tokens token_id:<id> when asked: the entry keeps the bytes of its text, a top entry has the bytes of its name', () => {
    const plain = entries(new ChoiceSampler(5, 1), 3);
    const named = entries(new ChoiceSampler(5, 1), 3, true);
    for (const [i, e] of named.entries()) {
      const token = plain[i].token;
      expect(e).toMatchObject({ token: `token_id:${tokenId(token)}`, logprob: plain[i].logprob, bytes: bytes(token) });
      expect(e.top_logprobs.map((t) => t.token)).toEqual(plain[i].top_logprobs.map((t) => `token_id:${tokenId(t.token)}`));
      expect(e.top_logprobs.map((t) => t.bytes)).toEqual(e.top_logprobs.map((t) => bytes(t.token)));
      expect(e.top_logprobs.map((t) => t.logprob)).toEqual(plain[i].top_logprobs.map((t) => t.logprob));
    }
  });

  it('offers runners-up other than the token, even when the token is one of the alternative words', () => {
    const e = new ChoiceSampler(1, 0).logprob(' model', 3, 20, false);
    expect(e.top_logprobs.slice(1).map((t) => t.token)).not.toContain(' model');
    expect(e.top_logprobs).toHaveLength(20);
  });
});
