import type { ChatCompletionChunk } from '../model-backend.js';
import { ModelSplicer } from './openai-compatible.mapper.js';
import { RepeatedChunks, stringBody } from './repeated-chunks.js';

const ASKED = 'asked-model';

/** What the parsing path makes of `data`: the chunk with the requested model, and the text relayed. */
function parsed(data: string): { chunk: ChatCompletionChunk; text: string } | undefined {
  let chunk: ChatCompletionChunk;
  try {
    chunk = JSON.parse(data);
  } catch {
    return undefined;
  }
  const frame = new ModelSplicer(ASKED).chunk(chunk, data);
  return { chunk: frame.chunk, text: frame.text ?? JSON.stringify(frame.chunk) };
}

/** A reader that has parsed and remembered `first`. */
function readerAfter(first: string): RepeatedChunks {
  const splicer = new ModelSplicer(ASKED);
  const reader = new RepeatedChunks(splicer);
  const chunk = JSON.parse(first) as ChatCompletionChunk;
  const upstreamModel = chunk.model;
  reader.remember(splicer.chunk(chunk, first), first, upstreamModel);
  return reader;
}

const vllm = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'served',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    ...extra,
  });

/** The reader's answer for `data` must be exactly the parsing path's, or none. */
function expectAgrees(reader: RepeatedChunks, data: string): boolean {
  const fast = reader.read(data);
  if (fast === undefined) return false;
  const full = parsed(data);
  expect(full).toBeDefined();
  expect(fast.chunk).toEqual(full!.chunk);
  expect(fast.text).toBe(full!.text);
  expect(JSON.parse(fast.text!)).toEqual(JSON.parse(full!.text));
  return true;
}

describe('RepeatedChunks', () => {
  it('reads a chunk that repeats the one before but for its content, as parsing would', () => {
    const reader = readerAfter(vllm(' Hello'));
    for (const content of [' world', '', 'ünïcødé ✓', 'say "hi"\n\tthen \\ \u0001 \u2028 done', '\ud83d\ude00', 'x'.repeat(5000)]) {
      expect(expectAgrees(reader, vllm(content))).toBe(true);
    }
  });

  it('keeps the model name the client asked for in the relayed text and the object', () => {
    const reader = readerAfter(vllm('a'));
    const { chunk, text } = reader.read(vllm('b'))!;
    expect(chunk.model).toBe(ASKED);
    expect(JSON.parse(text!).model).toBe(ASKED);
    expect(chunk.choices[0].delta.content).toBe('b');
  });

  it('works whether the model name comes before or after the content', () => {
    const after = (content: string) =>
      `{"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"id":"c","model":"served"}`;
    const reader = readerAfter(after('a'));
    expect(expectAgrees(reader, after('b'))).toBe(true);
  });

  it('leaves to parsing every chunk that differs in anything but the content', () => {
    const reader = readerAfter(vllm('a'));
    const others = [
      vllm('a', { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      vllm('a').replace('"finish_reason":null', '"finish_reason":"stop"'),
      vllm('a').replace('"id":"chatcmpl-1"', '"id":"chatcmpl-2"'),
      vllm('a', { error: { message: 'boom' } }),
      vllm('a').replace('{"content":', '{"role":"assistant","content":'),
      vllm('a').replace(',"created"', ' ,"created"'),
      `${vllm('a')} `,
      vllm('a').slice(0, -1),
    ];
    for (const data of others) expect(reader.read(data)).toBeUndefined();
  });

  it('never takes text that is not JSON: a bare quote, a control character or a bad escape in the content', () => {
    const reader = readerAfter(vllm('a'));
    const prefix = vllm('\u0000').split('\\u0000')[0];
    const suffix = vllm('\u0000').split('\\u0000')[1];
    const bodies = ['"', 'a"b', 'a\nb', '\t', '\\', 'ab\\', '\\x', '\\u12', '\\u12g4', '\\u', 'a\\"', '"},"x":{"y":"', '\u001f'];
    for (const body of bodies) {
      const data = prefix + body + suffix;
      const fast = reader.read(data);
      let valid = true;
      try {
        JSON.parse(data);
      } catch {
        valid = false;
      }
      if (!valid) expect(fast).toBeUndefined();
      else expectAgrees(reader, data);
    }
  });

  it('agrees with parsing on many generated contents, or leaves them to it', () => {
    const reader = readerAfter(vllm('seed'));
    const alphabet = ['a', ' ', '"', '\\', '\\"', '\\\\', '\\n', '\\u00e9', '\\ud83d', '\\/', 'é', '\u0007', '\\q', '\\u', '}', ']', ',', ':', '\\b\\f\\r\\t'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let fastOnes = 0;
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(random() * 8);
      let body = '';
      for (let i = 0; i < len; i++) body += alphabet[Math.floor(random() * alphabet.length)];
      const data = vllm('seed').replace('"seed"', `"${body}"`);
      let valid = true;
      try {
        JSON.parse(data);
      } catch {
        valid = false;
      }
      if (!valid) {
        expect(reader.read(data)).toBeUndefined();
        refused++;
      } else if (expectAgrees(reader, data)) fastOnes++;
    }
    expect(fastOnes).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('remembers nothing it cannot be sure of', () => {
    const cannot = [
      vllm('a').replace('"finish_reason":null', '"finish_reason":"stop"'),
      vllm('a', { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      // "content" twice (logprobs carry a content key of their own), or escaped somewhere.
      vllm('a').replace('"logprobs":null', '"logprobs":{"content":[]}'),
      vllm('a').replace('"id":"chatcmpl-1"', '"id":"chat\\u0063mpl-1"'),
      vllm('a').replace('{"content":"a"}', '{"con\\u0074ent":"a","x":{"content":"a"}}'),
      // Two choices, no string content, a model name that cannot be spliced.
      JSON.stringify({
        id: 'c',
        model: 'served',
        choices: [
          { index: 0, delta: { content: 'a' } },
          { index: 1, delta: { content: 'b' } },
        ],
      }),
      JSON.stringify({ id: 'c', model: 'served', choices: [{ index: 0, delta: { tool_calls: [] } }] }),
      JSON.stringify({ id: 'c', model: 'served', meta: { model: 'served' }, choices: [{ index: 0, delta: { content: 'a' } }] }),
      JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: 'a' } }] }),
    ];
    for (const first of cannot) {
      const reader = readerAfter(first);
      // The same text again would be read if it had been remembered.
      expect(reader.read(first)).toBeUndefined();
    }
  });

  it('forgets a chunk once a different one is parsed', () => {
    const reader = readerAfter(vllm('a'));
    const last = vllm('b').replace('"finish_reason":null', '"finish_reason":"stop"');
    const chunk = JSON.parse(last) as ChatCompletionChunk;
    reader.remember(new ModelSplicer(ASKED).chunk(chunk, last), last, 'served');
    expect(reader.read(vllm('c'))).toBeUndefined();
  });
});

describe('stringBody', () => {
  const check = (s: string) => stringBody(s, 0, s.length);
  it('accepts what JSON accepts inside a string, and tells when it holds an escape', () => {
    expect(check('plain ü ✓')).toBe(false);
    expect(check('')).toBe(false);
    expect(check('a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00E9\\uD83D')).toBe(true);
  });
  it('refuses a bare quote, a control character, an unknown or cut escape', () => {
    for (const s of ['"', 'a\u001fb', '\n', '\\', '\\a', '\\u00', '\\u00g0', 'x\\']) expect(check(s)).toBeUndefined();
  });
});
