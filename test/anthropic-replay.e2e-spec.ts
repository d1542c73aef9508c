import { AnthropicReplay, fixture, fixtureCases, pieces } from './support/anthropic-replay.js';

type Json = any;
interface Frame {
  event: string;
  data: Json;
}

const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded'];
const DELTAS: Record<string, string[]> = {
  text: ['text_delta', 'citations_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  tool_use: ['input_json_delta'],
  redacted_thinking: [],
};

/** Parses SSE bytes as Anthropic writes them: `event: <type>\ndata: <json>\n\n`, nothing else. */
function frames(text: string): { frames: Frame[]; problems: string[] } {
  const problems: string[] = [];
  if (!text.endsWith('\n\n')) problems.push('the stream does not end with a blank line');
  if (text.includes('\r')) problems.push('the stream has a carriage return');
  const out: Frame[] = [];
  text
    .replace(/\n\n$/, '')
    .split('\n\n')
    .forEach((raw, i) => {
      const m = /^event: ([a-z_]+)\ndata: (.+)$/.exec(raw);
      if (!m) return void problems.push(`frame ${i} is not "event: …\\ndata: …": ${JSON.stringify(raw.slice(0, 60))}`);
      let data: Json;
      try {
        data = JSON.parse(m[2]);
      } catch {
        return void problems.push(`frame ${i} (${m[1]}): data is not JSON`);
      }
      if (data?.type !== m[1]) problems.push(`frame ${i}: event ${m[1]} carries data of type ${data?.type}`);
      out.push({ event: m[1], data });
    });
  return { frames: out, problems };
}

/** Everything wrong with a recorded stream, checked against the documented event flow. */
function problems(text: string): string[] {
  const { frames: list, problems: found } = frames(text);
  const say = (i: number, p: string) => found.push(`frame ${i} (${list[i].event}): ${p}`);
  let open: { index: number; type: string; deltas: string[]; json: string } | undefined;
  let next = 0;
  let phase = 'start' as 'start' | 'blocks' | 'delta' | 'stop' | 'error';
  list.forEach(({ event, data }, i) => {
    if (phase === 'stop' || phase === 'error') return say(i, `comes after ${phase === 'stop' ? 'message_stop' : 'an error event'}`);
    if (event === 'message_start') {
      if (phase !== 'start') return say(i, 'a second message_start');
      const m = data.message;
      if (m?.type !== 'message' || m.role !== 'assistant' || !/^msg_[A-Za-z0-9]+$/.test(m.id) || typeof m.model !== 'string')
        say(i, 'not an assistant message with a msg_ id and a model');
      if (!Array.isArray(m?.content) || m.content.length || m.stop_reason !== null) say(i, 'content must be empty and stop_reason null');
      if (!Number.isInteger(m?.usage?.input_tokens) || !Number.isInteger(m?.usage?.output_tokens)) say(i, 'usage lacks input_tokens/output_tokens');
      return void (phase = 'blocks');
    }
    if (phase === 'start') return say(i, 'before message_start');
    if (event === 'ping') return;
    if (event === 'error') {
      if (typeof data.error?.type !== 'string' || typeof data.error?.message !== 'string') say(i, 'error without type and message');
      return void (phase = 'error');
    }
    if (event === 'content_block_start') {
      if (phase !== 'blocks') return say(i, 'a block after message_delta');
      if (open) say(i, `block ${open.index} is still open`);
      if (data.index !== next) say(i, `index ${data.index}, expected ${next}`);
      const b = data.content_block ?? {};
      if (!(b.type in DELTAS)) say(i, `unknown block type ${b.type}`);
      if (b.type === 'text' && b.text !== '') say(i, 'a text block starts empty');
      if (b.type === 'thinking' && (b.thinking !== '' || b.signature !== '')) say(i, 'a thinking block starts empty');
      if (b.type === 'redacted_thinking' && !b.data) say(i, 'redacted_thinking without data');
      if (b.type === 'tool_use' && (!/^toolu_[A-Za-z0-9]+$/.test(b.id) || !b.name || JSON.stringify(b.input) !== '{}'))
        say(i, 'tool_use needs a toolu_ id, a name and input {}');
      open = { index: data.index, type: b.type, deltas: [], json: '' };
      return void (next = data.index + 1);
    }
    if (event === 'content_block_delta') {
      if (!open || data.index !== open.index) return say(i, `delta for block ${data.index}, open: ${open?.index}`);
      const type = data.delta?.type;
      if (!DELTAS[open.type]?.includes(type)) say(i, `${type} in a ${open.type} block`);
      if (open.deltas.at(-1) === 'signature_delta') say(i, 'a delta after signature_delta');
      if (type === 'input_json_delta') open.json += data.delta.partial_json;
      return void open.deltas.push(type);
    }
    if (event === 'content_block_stop') {
      if (!open || data.index !== open.index) return say(i, `stop for block ${data.index}, open: ${open?.index}`);
      if (open.type === 'thinking' && open.deltas.at(-1) !== 'signature_delta') say(i, 'a thinking block ends without signature_delta');
      if (open.type === 'tool_use') {
        try {
          if (typeof JSON.parse(open.json) !== 'object') say(i, 'tool input is not an object');
        } catch {
          say(i, `tool input does not parse: ${open.json}`);
        }
      }
      return void (open = undefined);
    }
    if (event === 'message_delta') {
      if (open) say(i, `block ${open.index} is still open`);
      if (phase !== 'blocks') say(i, 'a second message_delta');
      if (!STOP_REASONS.includes(data.delta?.stop_reason)) say(i, `undocumented stop_reason ${data.delta?.stop_reason}`);
      if (!Number.isInteger(data.usage?.output_tokens)) say(i, 'usage lacks output_tokens');
      return void (phase = 'delta');
    }
    if (event === 'message_stop') {
      if (phase !== 'delta') say(i, 'message_stop without message_delta');
      return void (phase = 'stop');
    }
    say(i, 'unknown event');
  });
  if (!['stop', 'error'].includes(phase)) found.push('the stream ends without message_stop or an error event');
  return found;
}

/** The message a stream builds, as Anthropic's SDKs accumulate it; `error` when the stream ended with one. */
function accumulate(list: Frame[]): { message: Json; error?: Json } {
  let message: Json;
  const json: string[] = [];
  for (const { event, data } of list) {
    if (event === 'message_start') message = structuredClone(data.message);
    if (event === 'content_block_start') message.content[data.index] = structuredClone(data.content_block);
    if (event === 'content_block_delta') {
      const block = message.content[data.index];
      const d = data.delta;
      if (d.type === 'text_delta') block.text += d.text;
      if (d.type === 'thinking_delta') block.thinking += d.thinking;
      if (d.type === 'signature_delta') block.signature = d.signature;
      if (d.type === 'input_json_delta') json[data.index] = (json[data.index] ?? '') + d.partial_json;
    }
    if (event === 'content_block_stop' && json[data.index] !== undefined) message.content[data.index].input = JSON.parse(json[data.index] || '{}');
    if (event === 'message_delta') {
      Object.assign(message, data.delta);
      for (const [k, v] of Object.entries(data.usage)) if (v !== null) message.usage[k] = v;
    }
    if (event === 'error') return { message, error: data.error };
  }
  return { message };
}

const text = (file: string) => fixture(file).toString('utf8');
const STREAMS = fixtureCases('sse');
const REPLIES = fixtureCases('json');

describe('recorded Anthropic replies (test/fixtures/anthropic)', () => {
  it('cover every case issue #20 needs, streamed and not', () => {
    const cases = [
      'text',
      'thinking-text',
      'thinking-text-tool-use',
      'parallel-tool-use',
      'redacted-thinking',
      'structured-output',
      'max-tokens',
      'refusal',
      'error-overloaded',
      'cache-usage',
    ];
    expect(STREAMS).toEqual(expect.arrayContaining(cases));
    expect(REPLIES).toEqual(STREAMS);
  });

  it.each(STREAMS)('%s.sse follows the documented event flow', (name) => {
    expect(problems(text(`${name}.sse`))).toEqual([]);
  });

  it.each(REPLIES.filter((n) => n !== 'error-overloaded'))('%s: the .json reply is the message the .sse stream builds', (name) => {
    const { message, error } = accumulate(frames(text(`${name}.sse`)).frames);
    expect(error).toBeUndefined();
    expect(message).toEqual(JSON.parse(text(`${name}.json`)));
  });

  it('error-overloaded: the stream breaks off after text with an overloaded_error; the non-streamed reply is the 529 body', () => {
    const { message, error } = accumulate(frames(text('error-overloaded.sse')).frames);
    expect(message.content).toEqual([{ type: 'text', text: 'Sure, here is the first' }]);
    expect(message.stop_reason).toBeNull();
    expect(error).toMatchObject({ type: 'overloaded_error', message: 'Overloaded' });
    expect(JSON.parse(text('error-overloaded.json'))).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: expect.stringMatching(/^req_/),
    });
  });

  const good = text('thinking-text-tool-use.sse');
  const without = (s: string, pattern: RegExp) => s.replace(pattern, '');
  it.each<[string, string, string]>([
    ['a block left open', without(good, /event: content_block_stop\ndata: \{"type":"content_block_stop","index":1\}\n\n/), 'block 1 is still open'],
    ['a delta for the wrong block', good.replace('"index":2,"delta"', '"index":1,"delta"'), 'delta for block 1, open: 2'],
    ['data that is not JSON', good.replace('{"type":"message_stop"}', '{"type":"message_stop"'), 'data is not JSON'],
    ['an event name that is not the data type', good.replace('event: message_stop', 'event: message_end'), 'carries data of type message_stop'],
    ['no blank line at the end', good.trimEnd(), 'does not end with a blank line'],
    ['an undocumented stop reason', good.replace('"stop_reason":"tool_use"', '"stop_reason":"tool_calls"'), 'undocumented stop_reason tool_calls'],
    ['tool input cut short', without(good, /event: content_block_delta\ndata: [^\n]*"partial_json":"sius\\"\}"[^\n]*\n\n/), 'tool input does not parse'],
    [
      'a thinking block without its signature',
      without(good, /event: content_block_delta\ndata: [^\n]*signature_delta[^\n]*\n\n/),
      'ends without signature_delta',
    ],
    ['blocks out of order', good.replace('"index":1,"content_block"', '"index":3,"content_block"'), 'index 3, expected 1'],
    ['no message_stop', without(good, /event: message_stop\n[^\n]*\n\n/), 'ends without message_stop'],
  ])('spots %s', (_, broken, expected) => {
    expect(broken).not.toBe(good);
    expect(problems(broken).join('\n')).toContain(expected);
  });
});

describe('AnthropicReplay: the recordings served as /v1/messages on 127.0.0.1', () => {
  const KEY = 'sk-ant-replay-key';
  const replay = new AnthropicReplay(KEY);
  const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
  const body = (stream: boolean) => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream, messages: [{ role: 'user', content: 'Hi' }] });

  /** The reply's status, headers, bytes, and how many reads they took. */
  async function post(init: { headers?: Record<string, string>; body?: string; method?: string; path?: string } = {}) {
    const res = await fetch(`${replay.baseURL}${init.path ?? '/v1/messages'}`, {
      method: init.method ?? 'POST',
      headers: init.headers ?? headers,
      body: init.body ?? body(true),
    });
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    return { status: res.status, headers: res.headers, bytes: Buffer.concat(chunks), reads: chunks.length };
  }

  beforeAll(() => replay.start());
  afterAll(() => replay.stop());

  it.each(STREAMS)('streams %s.sse byte for byte, whole and cut at arbitrary byte boundaries', async (name) => {
    const recorded = fixture(`${name}.sse`);
    for (const cuts of ['whole', 1, { seed: 20, max: 40 }, [7, 8, 9, recorded.length - 1]] as const) {
      replay.play(name, { cuts: cuts as never });
      const reply = await post();
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(reply.bytes.equals(recorded)).toBe(true);
      if (cuts !== 'whole') expect(reply.reads).toBeGreaterThan(1);
    }
  });

  it.each(REPLIES)('answers a request without stream with %s.json, with the status Anthropic gives it', async (name) => {
    replay.play(name);
    const reply = await post({ body: body(false) });
    expect(reply.bytes.equals(fixture(`${name}.json`))).toBe(true);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.status).toBe(name === 'error-overloaded' ? 529 : 200);
  });

  it('records each request that passed the checks, body and headers', async () => {
    replay.play('text');
    await post({ body: body(false), headers: { ...headers, 'anthropic-beta': 'interleaved-thinking-2025-05-14' } });
    expect(replay.calls).toHaveLength(1);
    expect(replay.calls[0].json).toEqual(JSON.parse(body(false)));
    expect(replay.calls[0].headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
  });

  it.each<[string, Parameters<typeof post>[0], number, string]>([
    ['no x-api-key', { headers: { 'anthropic-version': '2023-06-01' } }, 401, 'authentication_error'],
    ['a wrong x-api-key', { headers: { ...headers, 'x-api-key': 'sk-ant-other' } }, 401, 'authentication_error'],
    ['a bearer token instead of x-api-key', { headers: { authorization: `Bearer ${KEY}`, 'anthropic-version': '2023-06-01' } }, 401, 'authentication_error'],
    ['no anthropic-version', { headers: { 'x-api-key': KEY } }, 400, 'invalid_request_error'],
    ['an unknown anthropic-version', { headers: { ...headers, 'anthropic-version': '2024-01-01' } }, 400, 'invalid_request_error'],
    ['a body that is not JSON', { body: '{"model":' }, 400, 'invalid_request_error'],
    ['no max_tokens', { body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [] }) }, 400, 'invalid_request_error'],
    ['another path', { path: '/v1/chat/completions' }, 404, 'not_found_error'],
  ])('refuses %s as the API does, and does not record it', async (_, init, status, type) => {
    replay.play('text');
    const reply = await post(init);
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.bytes.toString())).toMatchObject({ type: 'error', error: { type } });
    expect(replay.calls).toHaveLength(0);
  });

  it('drops the connection after a given byte, in the middle of an event', async () => {
    const recorded = fixture('text.sse');
    const cut = recorded.indexOf('"text":"Hello"') + 5;
    replay.play('text', { dropAfterBytes: cut });
    const res = await fetch(`${replay.baseURL}/v1/messages`, { method: 'POST', headers, body: body(true) });
    const reader = res.body!.getReader();
    const got: Uint8Array[] = [];
    const failure = await (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return undefined;
        got.push(r.value);
      }
    })().catch((e: unknown) => e);
    // undici rejects a body whose connection closed before its end with `TypeError: terminated`.
    expect(failure).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(Buffer.concat(got).equals(recorded.subarray(0, cut))).toBe(true);
  });

  it('cuts bytes into pieces that join back to the whole', () => {
    const bytes = fixture('parallel-tool-use.sse');
    for (const cuts of [1, 3, 1000, { seed: 1, max: 17 }, { seed: 99, max: 2 }, [0, 5, 5, 2, bytes.length]] as const) {
      const parts = pieces(bytes, cuts as never);
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
      expect(parts.every((p) => p.length > 0)).toBe(true);
    }
    expect(pieces(bytes, 1)).toHaveLength(bytes.length);
  });
});
