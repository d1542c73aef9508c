import { StopText } from './llama-cpp.stop-text.js';

/** The obvious answer: the whole text cut at its first stop string, trimmed at the end when asked. */
function expected(text: string, stops: string[], trimEnd: boolean): string {
  const cuts = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
  if (cuts.length) return text.slice(0, Math.min(...cuts));
  return trimEnd ? text.trimEnd() : text;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('StopText', () => {
  it('releases text as it comes, cuts at a stop string and leaves it out', () => {
    const s = new StopText(['END']);
    expect(s.push('hello ')).toBe('hello ');
    expect(s.push('wor')).toBe('wor');
    expect(s.push('ld E')).toBe('ld ');
    expect(s.push('N')).toBe('');
    expect(s.push('Dmore')).toBe('');
    expect(s.stopped).toBe(true);
    expect(s.end()).toBe('');
  });

  it('releases a held ending that never became a stop string at the end', () => {
    const s = new StopText(['<|im_end|>']);
    expect(s.push('a <|im')).toBe('a ');
    expect(s.push('_e')).toBe('');
    expect(s.end()).toBe('<|im_e');
  });

  it('holds trailing white space for a grammar that trims it, and drops it at the end', () => {
    const s = new StopText(['\n\n\n\n'], true);
    expect(s.push('{ ')).toBe('{');
    expect(s.push('}')).toBe(' }');
    expect(s.push(' \n')).toBe('');
    expect(s.end()).toBe('');
  });

  it('agrees with cutting the whole text on generated texts, stops and chunkings', () => {
    const rand = mulberry32(7);
    const alphabet = 'ab \n<|>';
    const word = (max: number) => Array.from({ length: 1 + Math.floor(rand() * max) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let round = 0; round < 2000; round++) {
      const text = word(40);
      const stops = Array.from({ length: Math.floor(rand() * 3) }, () => word(4));
      const trimEnd = rand() < 0.3;
      const s = new StopText(stops, trimEnd);
      const want = expected(text, stops, trimEnd);
      let got = '';
      for (let i = 0; i < text.length;) {
        const step = 1 + Math.floor(rand() * 4);
        got += s.push(text.slice(i, i + step));
        i += step;
        // What was released is never taken back: it is always the start of the final text.
        expect(want.startsWith(got)).toBe(true);
      }
      got += s.end();
      expect({ text, stops, trimEnd, got }).toEqual({ text, stops, trimEnd, got: want });
    }
  });
});
