import { startApp, type RunningApp } from '../support/app.js';
import { writeConfig } from '../support/config-file.js';
import { message, messageEvents } from '../support/anthropic-mock.js';
import { chunk, completion, sleep } from '../support/mock-upstream.js';
import { closedPort, FaultUpstream, type FaultConnection, type FaultScript } from './support/fault-upstream.js';
import { activeResources, processListeners, resourcesAbove, settleResources } from './support/handles.js';
import { clientAgent, send, type Reply } from './support/http-client.js';
import { authEnv, CLIENT_KEY, makeJwtKit, SecretScanner, UPSTREAM_KEY, WRONG_KEY, type JwtKit } from './support/secrets.js';
import { recordSummary } from './support/summary.js';

/** What a client must see for one upstream fault. */
interface Expectation {
  status: number;
  code?: string;
  type?: string;
  message?: RegExp;
  /** The reply is a 200 stream that ends with an error event (and no [DONE]). */
  midStream?: boolean;
  /** Requests the upstream must have received (retries included). */
  upstreamRequests?: number;
  minMs?: number;
  maxMs: number;
  headers?: Record<string, string>;
}

interface Fault {
  name: string;
  model: string;
  stream: boolean;
  script: FaultScript;
  expect: Expectation;
}

const MB = 1024 * 1024;
const TIMEOUT_MS = 500;
const RETRIES = 2;
const hello = [{ role: 'user', content: 'reliability' }];
const roleChunk = (c: FaultConnection) => chunk(c.req.json.model, { role: 'assistant', content: '' });
const textChunk = (c: FaultConnection, text: string) => chunk(c.req.json.model, { content: text });
/** An error status whose body stops short of its content-length. */
const stalledErrorBody =
  (status: number, start: string): FaultScript =>
  (c) => {
    c.head(status, { 'content-type': 'application/json', 'content-length': 5000 });
    c.write(start);
  };
/** timeoutMs of the `paced` providers: the longest a stream may go without a data event. */
const PACE_MS = 1000;
const paceTimeout: Expectation = {
  status: 504,
  code: 'upstream_timeout',
  type: 'server_error',
  upstreamRequests: 1,
  minMs: PACE_MS - 50,
  maxMs: PACE_MS + 1500,
};
const paceTimeoutMidStream: Expectation = {
  status: 200,
  midStream: true,
  code: 'upstream_timeout',
  upstreamRequests: 1,
  minMs: PACE_MS - 50,
  maxMs: PACE_MS + 1500,
};
/** Anthropic's stream of `text`, in its own event format. */
const claudeEvents = (c: FaultConnection, text: string) => messageEvents(message(c.req.json.model, [{ type: 'text', text }]));
/** The first bytes of an event that is never finished, then one more byte every 100 ms. */
const trickle = (c: FaultConnection, start: string) => {
  c.write(start);
  return c.every(100, () => c.write('a'));
};
const OPENAI_TRICKLE = 'data: {"id":"chatcmpl-x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"';
const CLAUDE_TRICKLE = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"';

/** Upstreams that keep the connection busy without a data event: keep-alive comments, Anthropic pings, a trickle. */
function pacedFaults(both: (name: string, script: FaultScript, expect: Expectation, model?: string) => Fault[]): Fault[] {
  const streamed = (name: string, model: string, script: FaultScript, expect: Expectation): Fault => ({ name, model, stream: true, script, expect });
  const comments = (c: FaultConnection) => c.every(100, () => c.comment('ping'));
  return [
    ...both('only SSE comments after the headers', (c) => (c.sseHead(), comments(c)), paceTimeout, 'paced'),
    streamed('one chunk, then only SSE comments', 'paced', (c) => (c.sseHead(), c.frame(roleChunk(c)), comments(c)), paceTimeoutMidStream),
    streamed('an event trickled a byte at a time, never completed', 'paced', (c) => (c.sseHead(), trickle(c, OPENAI_TRICKLE)), paceTimeout),
    streamed(
      'one chunk, then an event trickled a byte at a time',
      'paced',
      (c) => (c.sseHead(), c.frame(roleChunk(c)), trickle(c, OPENAI_TRICKLE)),
      paceTimeoutMidStream,
    ),
    ...both('anthropic: only SSE comments after the headers', (c) => (c.sseHead(), comments(c)), paceTimeout, 'paced-claude'),
    ...both('anthropic: an error status whose body stalls', stalledErrorBody(529, '{"type":"error","error":{'), paceTimeout, 'paced-claude'),
    streamed('anthropic: only ping events', 'paced-claude', (c) => (c.sseHead(), c.every(100, () => c.event('ping', { type: 'ping' }))), paceTimeout),
    streamed(
      'anthropic: message_start, then only ping events',
      'paced-claude',
      (c) => {
        c.sseHead();
        const [start] = claudeEvents(c, 'never');
        c.event(start.event, start.data);
        return c.every(100, () => c.event('ping', { type: 'ping' }));
      },
      paceTimeoutMidStream,
    ),
    streamed('anthropic: an event trickled a byte at a time, never completed', 'paced-claude', (c) => (c.sseHead(), trickle(c, CLAUDE_TRICKLE)), paceTimeout),
    streamed(
      'anthropic: message_start, then an event trickled a byte at a time',
      'paced-claude',
      (c) => {
        c.sseHead();
        const [start, blockStart] = claudeEvents(c, 'never');
        c.event(start.event, start.data);
        c.event(blockStart.event, blockStart.data);
        return trickle(c, CLAUDE_TRICKLE);
      },
      paceTimeoutMidStream,
    ),
  ];
}

/** The faults of part 1, each in the mode(s) where it means something. */
function faults(): Fault[] {
  const both = (name: string, script: FaultScript, expect: Expectation, model = 'faulty'): Fault[] => [
    { name: `${name} (non-streamed)`, model, stream: false, script, expect },
    { name: `${name} (streamed)`, model, stream: true, script, expect },
  ];
  const storm = (status: number) =>
    both(`${status} storm`, (c) => c.json(status, { error: { message: `storm ${status}`, type: 'server_error' } }), {
      status: 502,
      code: 'upstream_error',
      type: 'server_error',
      message: new RegExp(`storm ${status}`),
      upstreamRequests: 1 + RETRIES,
      maxMs: 2000,
    });
  return [
    ...both('connection refused', () => undefined, { status: 502, code: 'upstream_unavailable', message: /refused/, maxMs: 2000 }, 'refused'),
    ...both('reset before headers', (c) => c.reset(), {
      status: 502,
      code: 'upstream_unavailable',
      type: 'server_error',
      upstreamRequests: 1 + RETRIES,
      maxMs: 2000,
    }),
    {
      name: 'reset mid-body',
      model: 'faulty',
      stream: false,
      script: async (c) => {
        c.head(200, { 'content-type': 'application/json', 'content-length': 1000 });
        c.write('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cut');
        await sleep(30);
        c.reset();
      },
      expect: { status: 502, code: 'upstream_unavailable', upstreamRequests: 1 + RETRIES, maxMs: 2000 },
    },
    {
      name: 'reset mid-stream',
      model: 'faulty',
      stream: true,
      script: async (c) => {
        c.sseHead();
        c.frame(roleChunk(c));
        c.frame(textChunk(c, 'partial'));
        await sleep(30);
        c.reset();
      },
      expect: { status: 200, midStream: true, upstreamRequests: 1, maxMs: 2000 },
    },
    ...both('headers that never come', (c) => c.hang(), {
      status: 504,
      code: 'upstream_timeout',
      type: 'server_error',
      upstreamRequests: 1,
      minMs: TIMEOUT_MS - 50,
      maxMs: TIMEOUT_MS + 1000,
    }),
    {
      name: 'body stalls after headers',
      model: 'faulty',
      stream: false,
      script: (c) => {
        c.head(200, { 'content-type': 'application/json', 'content-length': 5000 });
        c.write('{"id":"chatcmpl-x","object":"chat.completion","choices":[');
      },
      expect: { status: 504, code: 'upstream_timeout', upstreamRequests: 1, minMs: TIMEOUT_MS - 50, maxMs: TIMEOUT_MS + 1000 },
    },
    // undici's bodyTimeout is off: the error body is bounded by the whole-reply deadline.
    ...both('an error status whose body stalls', stalledErrorBody(500, '{"error":{"message":"'), {
      status: 504,
      code: 'upstream_timeout',
      upstreamRequests: 1,
      minMs: TIMEOUT_MS - 50,
      maxMs: TIMEOUT_MS + 1000,
    }),
    {
      name: 'stream stalls before its first event',
      model: 'faulty',
      stream: true,
      script: (c) => c.sseHead(),
      expect: { status: 504, code: 'upstream_timeout', upstreamRequests: 1, minMs: TIMEOUT_MS - 50, maxMs: TIMEOUT_MS + 1000 },
    },
    {
      name: 'stream stalls after its first event',
      model: 'faulty',
      stream: true,
      script: (c) => {
        c.sseHead();
        c.frame(roleChunk(c));
      },
      expect: { status: 200, midStream: true, code: 'upstream_timeout', upstreamRequests: 1, minMs: TIMEOUT_MS - 50, maxMs: TIMEOUT_MS + 1000 },
    },
    {
      name: 'invalid JSON',
      model: 'faulty',
      stream: false,
      script: (c) => c.send(200, '{"id":"chatcmpl-x","choices":[tru'),
      expect: { status: 502, code: 'upstream_invalid_reply', type: 'server_error', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'valid JSON that is not a chat.completion',
      model: 'faulty',
      stream: false,
      script: (c) => c.json(200, { hello: 'world' }),
      expect: { status: 502, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'SSE stream whose first frame is malformed',
      model: 'faulty',
      stream: true,
      script: (c) => {
        c.sseHead();
        c.frame('{"id":"chatcmpl-x","choices":[{"delta":');
        c.end('data: [DONE]\n\n');
      },
      expect: { status: 502, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'SSE stream with a malformed frame mid-stream',
      model: 'faulty',
      stream: true,
      script: (c) => {
        c.sseHead();
        c.frame(roleChunk(c));
        c.frame(textChunk(c, 'fine so far'));
        c.frame('{"id":"chatcmpl-x","choices":[{"delta":{"content":"bro');
        c.frame(textChunk(c, 'never relayed'));
        c.end('data: [DONE]\n\n');
      },
      expect: { status: 200, midStream: true, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'SSE stream with a frame that is JSON but not an object',
      model: 'faulty',
      stream: true,
      script: (c) => {
        c.sseHead();
        c.frame(roleChunk(c));
        c.frame('null');
        c.frame(textChunk(c, 'never relayed'));
        c.end('data: [DONE]\n\n');
      },
      expect: { status: 200, midStream: true, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'SSE stream that ends without [DONE] or a finish_reason',
      model: 'faulty',
      stream: true,
      script: (c) => {
        c.sseHead();
        c.frame(roleChunk(c));
        c.frame(textChunk(c, 'and then'));
        c.end();
      },
      expect: { status: 200, midStream: true, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    {
      name: 'an HTML page where a stream was expected',
      model: 'faulty',
      stream: true,
      script: (c) => c.send(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' }),
      expect: { status: 502, code: 'upstream_invalid_reply', upstreamRequests: 1, maxMs: 1000 },
    },
    ...storm(500),
    ...storm(502),
    ...storm(503),
    ...both('429 storm with Retry-After', (c) => c.json(429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { 'retry-after': '1' }), {
      status: 429,
      code: 'upstream_rate_limited',
      type: 'rate_limit_error',
      upstreamRequests: 1 + RETRIES,
      minMs: RETRIES * 1000 - 100,
      maxMs: RETRIES * 1000 + 1500,
      headers: { 'retry-after': '1' },
    }),
    ...pacedFaults(both),
  ];
}

describe('part 1: upstream faults', () => {
  const upstream = new FaultUpstream();
  const agent = clientAgent(8);
  let baseline: Record<string, number>;
  let listenersBefore: Record<string, number>;
  let running: RunningApp;
  let jwt: JwtKit;
  let scanner: SecretScanner;
  let refusedPort: number;
  const figures = { cases: 0, upstreamRequests: 0, bytesReceived: 0, maxLeftoverSockets: 0, spuriousIdleConnections: 0, slowestMs: 0 };
  const bodies: string[] = [];

  beforeAll(async () => {
    baseline = activeResources();
    listenersBefore = processListeners();
    jwt = await makeJwtKit();
    scanner = new SecretScanner({ CLIENT_KEY, WRONG_KEY, UPSTREAM_KEY, JWT: jwt.token });
    await upstream.start();
    refusedPort = await closedPort();
    const provider = (name: string, baseURL: string, extra: string) => `
  ${name}:
    type: openai
    baseURL: ${baseURL}
    apiKey: \${REL_UPSTREAM_KEY}
    cooldownAfterFailures: 1000${extra}`;
    const config = writeConfig(`
providers:${provider('faulty', upstream.baseURL, `\n    timeoutMs: ${TIMEOUT_MS}\n    maxRetries: ${RETRIES}\n    retryBackoffMs: 10`)}${provider('refused', `http://127.0.0.1:${refusedPort}/v1`, `\n    timeoutMs: ${TIMEOUT_MS}\n    maxRetries: ${RETRIES}\n    retryBackoffMs: 10`)}${provider('big', upstream.baseURL, '\n    timeoutMs: 30000\n    maxRetries: 0')}${provider('small', upstream.baseURL, `\n    timeoutMs: 5000\n    maxRetries: 0\n    maxResponseBytes: ${MB}`)}${provider('paced', upstream.baseURL, `\n    timeoutMs: ${PACE_MS}\n    maxRetries: ${RETRIES}\n    retryBackoffMs: 10`)}${provider('paced-claude', upstream.origin, `\n    timeoutMs: ${PACE_MS}\n    maxRetries: ${RETRIES}\n    retryBackoffMs: 10`).replace('type: openai', 'type: anthropic')}
models:
  - name: faulty
    provider: faulty
  - name: refused
    provider: refused
  - name: big
    provider: big
  - name: small
    provider: small
  - name: paced
    provider: paced
  - name: paced-claude
    provider: paced-claude
`);
    running = await startApp({ ...authEnv(jwt), CONFIG_FILE: config, REL_UPSTREAM_KEY: UPSTREAM_KEY, LOG_LEVEL: 'debug' });
  });

  afterAll(async () => {
    agent.destroy();
    await running?.close().catch(() => undefined);
    await upstream.stop().catch(() => undefined);
  });

  let n = 0;
  /** Sends one chat request, alternating the client key and the JWT, and keeps the body for the secret scan. */
  async function ask(model: string, stream: boolean, timeoutMs = 60_000): Promise<Reply> {
    const token = n++ % 2 === 0 ? CLIENT_KEY : jwt.token;
    const r = await send(`${running.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: hello, stream }),
      agent,
      timeoutMs,
    });
    figures.bytesReceived += r.bytes;
    if (r.bytes < 4 * MB) bodies.push(r.text);
    return r;
  }

  /** Every connection that carried a request is closed; idle ones a pool opened afterwards are counted, then dropped. */
  async function expectUpstreamReleased(): Promise<void> {
    const left = await upstream.settled();
    figures.maxLeftoverSockets = Math.max(figures.maxLeftoverSockets, left);
    await sleep(30);
    figures.spuriousIdleConnections += upstream.dropIdle();
    expect(left).toBe(0);
  }

  it.each(faults().map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    upstream.reset(fault.script);
    const e = fault.expect;
    // A service that never ends the request fails here soon after the bound, not at the suite's timeout.
    const r = await ask(fault.model, fault.stream, e.maxMs + 5000);
    figures.cases++;
    figures.upstreamRequests += upstream.requests.length;
    figures.slowestMs = Math.max(figures.slowestMs, r.ms);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(e.status);
    expect(r.ms).toBeLessThan(e.maxMs);
    if (e.minMs !== undefined) expect(r.ms).toBeGreaterThanOrEqual(e.minMs);
    if (e.upstreamRequests !== undefined) expect(upstream.requests.length).toBe(e.upstreamRequests);
    for (const [h, v] of Object.entries(e.headers ?? {})) expect(r.headers[h]).toBe(v);
    if (e.midStream) {
      expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
      const frames = r.text.split('\n\n').filter(Boolean);
      expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
      expect(frames).not.toContain('data: [DONE]');
      const last = JSON.parse(frames.at(-1)!.slice(6));
      expect(Object.keys(last)).toEqual(['error']);
      expect(last.error).toEqual({ message: expect.any(String), type: expect.any(String), param: null, code: expect.any(String) });
      if (e.code) expect(last.error.code).toBe(e.code);
      for (const f of frames.slice(0, -1)) expect(JSON.parse(f.slice(6))).toMatchObject({ object: 'chat.completion.chunk', model: fault.model });
    } else {
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.json).toEqual({
        detail: expect.any(String),
        error: { message: expect.any(String), type: expect.any(String), param: null, code: expect.any(String) },
      });
      expect(r.json.detail).toBe(r.json.error.message);
      if (e.code) expect(r.json.error.code).toBe(e.code);
      if (e.type) expect(r.json.error.type).toBe(e.type);
      if (e.message) expect(r.json.error.message).toMatch(e.message);
    }
    await expectUpstreamReleased();
  });

  // Known: undici 7.30.2 re-queues an aborted request and so opens one idle connection (nodejs/undici#5845,
  // fixed by PR #5846, not released when this was written). Unskip after upgrading undici.
  it.skip('opens no new, never-used connection to the upstream after giving up on a request', async () => {
    upstream.dropIdle();
    upstream.reset((c) => c.hang());
    const r = await ask('faulty', false);
    expect(r.status).toBe(504);
    expect(await upstream.settled()).toBe(0);
    await sleep(200);
    // undici re-queues the aborted request, connects again for it, then drops it: the new socket idles for keepAliveTimeout (30 s).
    expect(upstream.idleSockets).toBe(0);
    upstream.dropIdle();
  });

  /** Ten data events 0.5 s apart (5 s in all, five times the paced providers' timeoutMs), keep-alives between them. */
  const SLOW_TEXT = Array.from({ length: 10 }, (_, i) => String(i).padEnd(5, '.')).join('');
  const slowHealthy: Record<string, FaultScript> = {
    paced: async (c) => {
      c.sseHead();
      c.frame(roleChunk(c));
      for (let i = 0; i < 10 && !c.socket.destroyed; i++) {
        await c.every(100, () => c.comment('keep-alive'), 5);
        c.frame(textChunk(c, SLOW_TEXT.slice(i * 5, i * 5 + 5)));
      }
      c.frame(chunk(c.req.json.model, {}, 'stop'));
      c.end('data: [DONE]\n\n');
    },
    'paced-claude': async (c) => {
      c.sseHead();
      for (const e of claudeEvents(c, SLOW_TEXT)) {
        // Pings are sent, as Anthropic sends them, but only the deltas keep the stream within its deadline.
        if (e.event === 'content_block_delta') await c.every(100, () => c.event('ping', { type: 'ping' }), 5);
        c.event(e.event, e.data);
      }
      c.end();
    },
  };

  it.each(Object.keys(slowHealthy))(
    'relays a slow but healthy stream whose data events come every 0.5 s for 5 s, past timeoutMs 1000 in all (%s)',
    async (model) => {
      upstream.reset(slowHealthy[model]);
      const r = await ask(model, true, 20_000);
      figures.cases++;
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      const events = r.text.split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      const text = events
        .slice(0, -1)
        .map((f) => JSON.parse(f.slice(6)).choices[0]?.delta?.content ?? '')
        .join('');
      expect(text).toBe(SLOW_TEXT);
      expect(r.ms).toBeGreaterThan(4500);
      expect(upstream.requests).toHaveLength(1);
      await expectUpstreamReleased();
    },
  );

  it('relays a 50 MB reply with 200 (the default maxResponseBytes is 64 MiB)', async () => {
    const content = 'x'.repeat(50 * MB);
    upstream.reset((c) => c.send(200, JSON.stringify(completion(c.req.json.model, content))));
    const r = await ask('big', false);
    figures.cases++;
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('big');
    expect(r.json.choices[0].message.content.length).toBe(50 * MB);
    expect(r.json.choices[0].message.content === content).toBe(true);
    expect(r.ms).toBeLessThan(10_000);
    await expectUpstreamReleased();
  });

  /** A streamed reply of 50 MB of content, relayed to the end with [DONE]. */
  async function bigStream(frames: number): Promise<void> {
    const piece = 'y'.repeat((50 * MB) / frames);
    upstream.reset(async (c) => {
      c.sseHead();
      c.frame(roleChunk(c));
      for (let i = 0; i < frames; i++) if (!c.write(`data: ${JSON.stringify(textChunk(c, piece))}\n\n`)) await new Promise((r) => c.socket.once('drain', r));
      c.frame(chunk(c.req.json.model, {}, 'stop'));
      c.end('data: [DONE]\n\n');
    });
    const r = await ask('big', true, 10_000);
    figures.cases++;
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    const events = r.text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events
      .slice(0, -1)
      .map((f) => JSON.parse(f.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text.length).toBe(50 * MB);
    expect(r.ms).toBeLessThan(10_000);
    await expectUpstreamReleased();
  }

  it('relays a 50 MB streamed reply in 50 events of 1 MB, with [DONE], within 10 s', () => bigStream(50));

  it('relays a 50 MB streamed reply sent as one event, with [DONE], within 10 s', () => bigStream(1));

  it.each([false, true])(
    'answers a reply over a smaller maxResponseBytes with 502 and an OpenAI error body, and lets go of the connection (stream: %s)',
    async (stream) => {
      const content = 'z'.repeat(2 * MB);
      upstream.reset(async (c) => {
        if (!c.stream) return c.send(200, JSON.stringify(completion(c.req.json.model, content)));
        c.sseHead();
        c.frame(roleChunk(c));
        c.frame(textChunk(c, content));
        c.frame(chunk(c.req.json.model, {}, 'stop'));
        c.end('data: [DONE]\n\n');
      });
      const r = await ask('small', stream);
      figures.cases++;
      expect(upstream.requests).toHaveLength(1);
      if (!stream) {
        expect(r.status).toBe(502);
        expect(r.json).toEqual({
          detail: expect.stringMatching(/larger than the configured limit/),
          error: { message: expect.any(String), type: 'server_error', param: null, code: 'upstream_invalid_reply' },
        });
      } else {
        // A stream may run long, but no single event may be larger than the limit: it would be buffered whole.
        expect(r.status).toBe(200);
        const events = r.text.split('\n\n').filter(Boolean);
        expect(events).not.toContain('data: [DONE]');
        expect(JSON.parse(events.at(-1)!.slice(6)).error).toEqual({
          message: expect.any(String),
          type: 'server_error',
          param: null,
          code: 'upstream_invalid_reply',
        });
        expect(r.bytes).toBeLessThan(MB);
      }
      await expectUpstreamReleased();
    },
  );

  it('keeps every client key, upstream key and JWT out of the logs and the bodies', async () => {
    await sleep(50);
    for (const line of running.logs) scanner.scan('log', JSON.stringify(line));
    for (const b of bodies) scanner.scan('response body', b);
    expect(running.logs.length).toBeGreaterThan(figures.cases);
    expect(scanner.hits).toEqual([]);
  });

  it('leaves no socket, timer or listener behind once the app and the mocks are closed', async () => {
    agent.destroy();
    await running.close();
    await upstream.stop();
    const extra = await settleResources(baseline);
    const listenersLeft = resourcesAbove(listenersBefore, processListeners());
    const summary = {
      ...figures,
      bodiesScanned: scanner.scannedTexts,
      logLinesScanned: running.logs.length,
      secretHits: scanner.hits.length,
      handlesLeft: extra,
      processListenersLeft: listenersLeft,
    };
    recordSummary('upstreamFaults', summary);
    expect(extra).toEqual({});
    expect(listenersLeft).toEqual({});
  });
});
