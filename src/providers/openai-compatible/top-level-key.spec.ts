import { topLevelValueAt } from './top-level-key.js';

/** A small seeded generator of JSON values where "model" turns up as keys and strings at every depth. */
function generator(seed: number) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const strings = ['model', '"model"', 'the "model": "x"', 'a\\b', 'ü\n\t', '{"model":1}', '', 'token_id:42', '[', '}'];
  const keys = ['model', 'id', 'choices', 'logprobs', 'content', 'x', 'model_tokens', 'bytes'];
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.35) return pick([...strings, 1, -1e-5, 2.5e21, 0, true, false, null]);
    if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    return object(depth + 1, false);
  };
  const object = (depth: number, top: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let n = Math.floor(rand() * 5); n > 0; n--) out[pick(keys)] = value(depth);
    // At the top, `model` is a string when present (what a reply carries), in any position.
    if (top && rand() < 0.8) out.model = pick(['served', 'model', 'a "b"', 'acme/agents/bot:step1']);
    else if (top) delete out.model;
    return out;
  };
  /** JSON text of `v` with random white space between tokens. */
  const write = (v: unknown): string => {
    const ws = () => pick(['', '', ' ', '\n', '\t ']);
    if (Array.isArray(v)) return `[${ws()}${v.map((x) => `${ws()}${write(x)}${ws()}`).join(',')}]`;
    if (v && typeof v === 'object')
      return `{${ws()}${Object.entries(v)
        .map(([k, x]) => `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${write(x)}${ws()}`)
        .join(',')}${ws()}}`;
    return JSON.stringify(v);
  };
  return { top: () => object(0, true), write, rand };
}

describe('topLevelValueAt', () => {
  it('agrees with JSON.parse on generated objects: it finds the top-level key, never one nested or inside a string', () => {
    const g = generator(19);
    let found = 0;
    for (let n = 0; n < 3000; n++) {
      const object = g.top();
      const text = g.write(object);
      const at = topLevelValueAt(text, 'model');
      if (!('model' in object)) {
        expect(at).toBe(-1);
        continue;
      }
      expect(at).toBeGreaterThan(-1);
      const written = JSON.stringify(object.model);
      expect(text.startsWith(written, at)).toBe(true);
      expect(JSON.parse(`${text.slice(0, at)}"MARK"${text.slice(at + written.length)}`)).toEqual({ ...object, model: 'MARK' });
      found++;
    }
    expect(found).toBeGreaterThan(2000);
  });

  it('gives up on a key written twice or with an escape, and on what is not an object', () => {
    expect(topLevelValueAt('{"model":"a","model":"b"}', 'model')).toBe(-1);
    expect(topLevelValueAt('{"mod\\u0065l":"a","model":"b"}', 'model')).toBe(-1);
    for (const text of ['[]', '"model"', '{}', ' {"x":1}', '{"model"', '{"x":[1,2}', 'null']) expect(topLevelValueAt(text, 'model')).toBe(-1);
    expect(topLevelValueAt('{"x":{"model":"n"},"model":"t"}', 'model')).toBe(27);
  });
});
