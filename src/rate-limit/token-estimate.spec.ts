import { estimatePromptTokens, estimateReplyTokens, maxOutputTokens, MEDIA_PART_TOKENS, StreamedText, textBytes } from './token-estimate.js';

const text = (n: number) => 'word '.repeat(n / 5);
const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const baseline = estimatePromptTokens(base);

/** The obvious, recursive count that the stack walk must agree with. */
function recursiveBytes(v: unknown, withKeys: boolean): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + recursiveBytes(x, withKeys), 0);
  if (v && typeof v === 'object') return Object.entries(v).reduce((n, [k, x]) => n + (withKeys ? Buffer.byteLength(k) : 0) + recursiveBytes(x, withKeys), 0);
  return 0;
}

describe('estimatePromptTokens', () => {
  it.each([
    ['a long string content', { content: text(4000) }],
    ['text parts', { content: [{ type: 'text', text: text(4000) }] }],
    ['a name', { content: 'x', name: text(4000) }],
    [
      'tool-call arguments',
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: JSON.stringify({ q: text(4000) }) } }] },
    ],
    ['a tool result in parts', { role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: text(4000) }] }],
    ['a refusal', { role: 'assistant', refusal: text(4000) }],
    ['reasoning', { role: 'assistant', content: 'x', reasoning_content: text(4000) }],
  ])('counts %s in a message', (_name, message) => {
    expect(estimatePromptTokens({ model: 'm', messages: [{ role: 'user', ...message }] }) - baseline).toBeGreaterThanOrEqual(1000);
  });

  it.each([
    [
      'tool definitions',
      {
        tools: [
          {
            type: 'function',
            function: {
              name: 'f',
              description: text(2000),
              parameters: { type: 'object', properties: { [text(1000).trim()]: { type: 'string', description: text(1000) } } },
            },
          },
        ],
      },
    ],
    ['legacy functions', { functions: [{ name: 'f', description: text(4000) }] }],
    ['a response_format schema', { response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object', description: text(4000) } } } }],
    ['tool_choice', { tool_choice: { type: 'function', function: { name: text(4000) } } }],
    ['an unknown field', { vendor_prompt: { deep: [text(4000)] } }],
  ])('counts %s', (_name, extra) => {
    expect(estimatePromptTokens({ ...base, ...extra }) - baseline).toBeGreaterThanOrEqual(1000);
  });

  it('charges an image, audio or file part a fixed cost, not its base64 payload', () => {
    const payload = 'A'.repeat(4_000_000);
    const parts = [
      { type: 'image_url', image_url: { url: `data:image/png;base64,${payload}` } },
      { type: 'input_audio', input_audio: { data: payload, format: 'wav' } },
      { type: 'file', file: { file_data: `data:application/pdf;base64,${payload}` } },
    ];
    const tokens = estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: parts }] });
    expect(tokens).toBeGreaterThanOrEqual(3 * MEDIA_PART_TOKENS);
    expect(tokens).toBeLessThan(3 * MEDIA_PART_TOKENS + 50);
  });

  it('counts UTF-8 bytes, so text in other scripts is not undercounted', () => {
    const ja = estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'あ'.repeat(4000) }] });
    expect(ja - baseline).toBeGreaterThanOrEqual(3000);
  });

  it('walks a body nested 100,000 levels deep without a stack overflow, in linear time', () => {
    let deep: unknown = text(40);
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { a: deep };
    const started = performance.now();
    expect(estimatePromptTokens({ ...base, x: deep })).toBeGreaterThan(baseline + 50_000 / 4);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it.each([1, 2, 3, 4, 5])('agrees with a recursive count on generated bodies (seed %i)', (seed) => {
    let s = seed;
    const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 5 || r < 0.3) return r < 0.1 ? null : r < 0.15 ? 42 : r < 0.2 ? true : 'é✓x'.repeat(Math.floor(rnd() * 9));
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 5) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, (_, i) => [`k${i}ü`, gen(depth + 1)]));
    };
    for (let i = 0; i < 200; i++) {
      const v = gen(0);
      expect(textBytes(v, true)).toBe(recursiveBytes(v, true));
      expect(textBytes(v, false)).toBe(recursiveBytes(v, false));
    }
  });
});

describe('maxOutputTokens', () => {
  it.each([
    [{ max_completion_tokens: 100, max_tokens: 5 }, 100],
    [{ max_tokens: 50 }, 50],
    [{ max_tokens: 50, n: 3 }, 150],
    [{ max_tokens: 0 }, 0],
    [{}, undefined],
    [{ max_tokens: -1 }, undefined],
    [{ max_tokens: 1.5 }, undefined],
    [{ max_tokens: '100' }, undefined],
  ])('%j → %p', (body, expected) => {
    expect(maxOutputTokens(body)).toBe(expected);
  });
});

describe('what a reply produced', () => {
  const call = (args: string) => ({ index: 0, id: 'c', type: 'function', function: { name: 'lookup', arguments: args } });

  it('a reply without usage: every text of every choice', () => {
    const choices = [
      { index: 0, message: { role: 'assistant', content: text(400), refusal: null } },
      { index: 1, message: { role: 'assistant', content: null, reasoning_content: text(400), tool_calls: [call(text(400))] } },
      { index: 2, message: { role: 'assistant', content: null, refusal: text(400), reasoning: text(400) } },
    ];
    expect(estimateReplyTokens(choices)).toBeGreaterThanOrEqual(500);
    expect(estimateReplyTokens(undefined)).toBe(0);
  });

  it('a stream: every string of every delta of every choice, keys not counted', () => {
    const produced = new StreamedText();
    for (let i = 0; i < 100; i++) {
      produced.add([
        { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'abcd' } }] } },
        { index: 1, delta: { reasoning_content: 'efgh', reasoning: 'ijkl' } },
        { index: 2, delta: { refusal: 'mnop', content: 'qrst' } },
      ]);
    }
    produced.add(undefined);
    expect(produced.tokens).toBe(500);
  });
});
