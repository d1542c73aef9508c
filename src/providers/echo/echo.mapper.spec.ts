import { countTokens, isSpace, tokens } from './echo.mapper.js';

/** The obvious definition (quadratic on a long run of white space): what the fast scan must agree with. */
const byRegex = (text: string): string[] => text.match(/\s*\S+(?:\s+$)?/g) ?? [];

/** A small seeded generator, so a failure names an input that can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const ALPHABET = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
  '\u200b',
  '\u0085',
  'a',
  'b',
  'é',
  '語',
  '\ud83d\ude00',
  '\ud800',
  '.',
  '0',
];

describe('echo tokens', () => {
  it('treats exactly the characters of \\s as white space', () => {
    for (let c = 0; c <= 0xffff; c++) expect({ c, space: isSpace(c) }).toEqual({ c, space: /\s/.test(String.fromCharCode(c)) });
  });

  it('agrees with the regex on 5,000 generated texts', () => {
    const next = random(42);
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(next() * 24);
      let text = '';
      for (let j = 0; j < length; j++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
      expect({ text, tokens: [...tokens(text)] }).toEqual({ text, tokens: byRegex(text) });
      expect({ text, count: countTokens(text) }).toEqual({ text, count: byRegex(text).length });
    }
  });

  it('is linear on white space with no word after it', () => {
    // The regex took ~14 s on 100 KB of spaces; one scan of 10 MB of every kind of space takes milliseconds.
    const text = 'word' + ' \t\n\u3000\u00a0'.repeat(2 * 1024 * 1024);
    const started = process.hrtime.bigint();
    expect([...tokens(text)]).toEqual([text]);
    expect([...tokens(text.slice(4))]).toEqual([]);
    expect(countTokens(text)).toBe(1);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5000);
  });
});
