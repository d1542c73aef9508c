import OpenAI from 'openai';
import type { BackendRequest, ChatCompletionChunk } from '../src/providers/model-backend.js';
import { OpenAiCompatibleBackend } from '../src/providers/openai-compatible/openai-compatible.backend.js';
import { OpenAiProviderConfig } from '../src/providers/openai-compatible/openai-compatible.config.js';
import type { RouterEvents } from '../src/providers/router-events.js';
import { KEY, authHeaders, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { chunk, completion, MockUpstream, reply, sleep, streamFrames } from './support/mock-upstream.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';

describe('the openai backend through the service', () => {
  const vllm = new MockUpstream();
  const backup = new MockUpstream();
  let running: RunningApp;
  let url: string;
  const hello = { messages: [{ role: 'user', content: 'hi' }] };

  beforeAll(async () => {
    await Promise.all([vllm.start(), backup.start()]);
    const config = writeConfig(`
providers:
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    apiKey: \${TEST_VLLM_KEY}
    timeoutMs: \${TEST_TIMEOUT:-400}
    maxRetries: 2
    retryBackoffMs: 10
    cooldownAfterFailures: 3
    cooldownMs: 300
  backup:
    type: openai
    baseURL: ${backup.baseURL}
    maxRetries: 0
  down:
    type: openai
    baseURL: http://127.0.0.1:1/v1
    maxRetries: 1
    retryBackoffMs: 5
  echo:
    type: echo
models:
  - name: qwen3-8b
    provider: vllm
    model: Qwen/Qwen3-8B
  - name: "vllm/*"
    provider: vllm
  - name: "wandb-artifact:///*"
    provider: vllm
  - name: smart
    provider: vllm
    model: primary
    fallbacks: [backup-model, echo]
  - name: backup-model
    provider: backup
  - name: unreachable
    provider: down
  - name: echo
    provider: echo
  - name: spread
    targets:
      - provider: vllm
        model: big
        weight: 3
      - provider: backup
        model: small
        weight: 1
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config, TEST_VLLM_KEY: 'sk-upstream-secret' });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await running.close();
    await Promise.all([vllm.stop(), backup.stop()]);
  });
  beforeEach(() => {
    vllm.reset((req, res) => reply(res, 200, completion(req.json.model, 'from vllm')));
    backup.reset((req, res) => reply(res, 200, completion(req.json.model, 'from backup')));
  });

  it('forwards the body untouched except model, with the provider key and never the client key', async () => {
    const body = { model: 'qwen3-8b', ...hello, temperature: 0.2, vendor_extension: { keep: [1, 'two', null] }, access_token: 'field' };
    const r = await post(url, body);
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('qwen3-8b');
    expect(r.json.choices[0].message.content).toBe('from vllm');
    const seen = vllm.requests[0];
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.json).toEqual({ ...body, model: 'Qwen/Qwen3-8B' });
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(JSON.stringify(seen.headers)).not.toContain(KEY);
  });

  it('passes a wildcard rest on as the model', async () => {
    await post(url, { model: 'vllm/meta/llama-3', ...hello });
    expect(vllm.requests[0].json.model).toBe('meta/llama-3');
    await post(url, { model: 'wandb-artifact:///acme/proj/agent:step25', ...hello });
    expect(vllm.requests[1].json.model).toBe('acme/proj/agent:step25');
  });

  it('forwards the body byte for byte when the model name is unchanged', async () => {
    const raw = '{ "model" : "backup-model",\n  "messages": [{"role":"user","content":"caf\\u00e9"}], "x": 1.50 }';
    expect((await post(url, raw)).status).toBe(200);
    expect(backup.requests[0].body).toBe(raw);
  });

  it('relays the upstream reply and chunks as written, only the model name changed', async () => {
    // `1.50` and the escaped `\u00e9` would come out as `1.5` and `é` from a parse-and-stringify.
    const text = (model: string, extra: string) =>
      `{"id":"c","object":"chat.completion${extra}","created":1,"model":${JSON.stringify(model)},"x":1.50,"note":"caf\\u00e9",`;
    vllm.reset((req, res) => {
      if (!req.json.stream)
        return reply(
          res,
          200,
          `${text(req.json.model, '')}"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop","logprobs":null}]}`,
        );
      return streamFrames(res, [`${text(req.json.model, '.chunk')}"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop","logprobs":null}]}`]);
    });
    const plain = await post(url, { model: 'qwen3-8b', ...hello });
    expect(plain.text).toBe(
      `${text('qwen3-8b', '')}"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop","logprobs":null}]}`,
    );
    const streamed = await post(url, { model: 'qwen3-8b', ...hello, stream: true });
    expect(sseData(streamed.text)[0]).toBe(
      `${text('qwen3-8b', '.chunk')}"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop","logprobs":null}]}`,
    );
    expect(vllm.requests.every((r) => r.json.model === 'Qwen/Qwen3-8B')).toBe(true);
  });

  it('relays a long stream of chunks that differ only in their content exactly as written, whatever the content holds', async () => {
    // Chunks read without a JSON.parse (they repeat the one before but for the content) must come out as parsed ones do.
    const frame = (model: string, content: string, finish = 'null') =>
      `{"id":"c","object":"chat.completion.chunk","created":1,"model":${JSON.stringify(model)},"x":1.50,"choices":[{"index":0,"delta":{"content":${content}},"finish_reason":${finish},"logprobs":null}]}`;
    const contents = [
      '"Hel"',
      '"lo"',
      '" caf\\u00e9"',
      '" \\"quoted\\" \\\\ \\n"',
      '""',
      '"\\ud83d\\ude00"',
      '" ✓ ünï"',
      ...Array.from({ length: 40 }, (_, i) => `" t${i}"`),
    ];
    vllm.reset((req, res) => streamFrames(res, [...contents.map((c) => frame(req.json.model, c)), frame(req.json.model, '""', '"stop"')]));
    const streamed = await post(url, { model: 'qwen3-8b', ...hello, stream: true });
    expect(sseData(streamed.text)).toEqual([...contents.map((c) => frame('qwen3-8b', c)), frame('qwen3-8b', '""', '"stop"'), '[DONE]']);
    // And a content that is not a JSON string ends the stream as an invalid reply, as before.
    vllm.reset((req, res) => streamFrames(res, [frame(req.json.model, '"a"'), frame(req.json.model, '"b"'), frame(req.json.model, '"c\u0001"')]));
    const broken = await post(url, { model: 'qwen3-8b', ...hello, stream: true });
    const events = sseData(broken.text);
    expect(events.slice(0, 2)).toEqual([frame('qwen3-8b', '"a"'), frame('qwen3-8b', '"b"')]);
    expect(JSON.parse(events[2]).error.code).toBe('upstream_invalid_reply');
    expect(events).toHaveLength(3);
  });

  it('lists the configured names', async () => {
    const res = await fetch(`${running.url}/v1/models`, { headers: authHeaders() });
    const ids = ((await res.json()) as { data: { id: string }[] }).data.map((m: { id: string }) => m.id);
    expect(ids).toEqual(['qwen3-8b', 'vllm/*', 'wandb-artifact:///*', 'smart', 'backup-model', 'unreachable', 'echo', 'spread']);
  });

  it('streams chunk by chunk as they arrive, with the requested model name', async () => {
    vllm.reset(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(req.json.model, { role: 'assistant', content: '' }))}\n\n`);
      res.write(`data: ${JSON.stringify(chunk(req.json.model, { content: 'one' }))}\n\n`);
      await sleep(300);
      res.write(`data: ${JSON.stringify(chunk(req.json.model, {}, 'stop'))}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const started = Date.now();
    const res = await fetch(url, { method: 'POST', headers: authHeaders(), body: JSON.stringify({ model: 'qwen3-8b', ...hello, stream: true }) });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(Date.now() - started).toBeLessThan(250);
    expect(first).toContain('"model":"qwen3-8b"');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const frames = sseData(first + rest);
    expect(frames.at(-1)).toBe('[DONE]');
    for (const f of frames.slice(0, -1)) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', JSON.parse(f))).toEqual([]);
  });

  it('keeps the upstream connection for the next request after a complete stream', async () => {
    vllm.reset((req, res) => streamFrames(res, [chunk(req.json.model, { role: 'assistant', content: 'x' }), chunk(req.json.model, {}, 'stop')]));
    for (let i = 0; i < 10; i++) expect(sseData((await post(url, { model: 'qwen3-8b', ...hello, stream: true })).text).at(-1)).toBe('[DONE]');
    expect(new Set(vllm.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('passes an upstream 4xx through with its status and body, without retrying', async () => {
    const upstreamError = { error: { message: "'temperature' must be <= 2", type: 'invalid_request_error', param: 'temperature', code: null } };
    vllm.reset((_req, res) => reply(res, 400, upstreamError));
    const r = await post(url, { model: 'qwen3-8b', ...hello, temperature: 9 });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ detail: "'temperature' must be <= 2", ...upstreamError });
    expect(vllm.requests).toHaveLength(1);
  });

  it('retries 503 honouring Retry-After in seconds, then succeeds', async () => {
    vllm.reset((req, res) =>
      vllm.requests.length === 1 ? reply(res, 503, { error: { message: 'busy' } }, { 'retry-after': '1' }) : reply(res, 200, completion(req.json.model, 'ok')),
    );
    const started = Date.now();
    const r = await post(url, { model: 'qwen3-8b', ...hello });
    expect(r.status).toBe(200);
    expect(vllm.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries 429 honouring Retry-After as an HTTP date', async () => {
    vllm.reset((req, res) =>
      vllm.requests.length === 1
        ? reply(res, 429, { error: { message: 'slow down' } }, { 'retry-after': new Date(Date.now() + 1500).toUTCString() })
        : reply(res, 200, completion(req.json.model, 'ok')),
    );
    const started = Date.now();
    expect((await post(url, { model: 'qwen3-8b', ...hello })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('gives up after maxRetries with a 502 and an OpenAI error body', async () => {
    vllm.reset((_req, res) => reply(res, 500, { error: { message: 'boom' } }));
    const r = await post(url, { model: 'qwen3-8b', ...hello });
    expect(r.status).toBe(502);
    expect(vllm.requests).toHaveLength(3);
    expect(r.json).toMatchObject({ detail: expect.any(String), error: { type: 'server_error', message: expect.stringContaining('boom') } });
  });

  it('answers connection refused with 502 after its retries', async () => {
    const r = await post(url, { model: 'unreachable', ...hello });
    expect(r.status).toBe(502);
    expect(r.json.error).toMatchObject({ code: 'upstream_unavailable', message: expect.stringContaining('refused') });
  });

  it('falls back in order when a model fails after its retries', async () => {
    vllm.reset((_req, res) => reply(res, 502, 'bad gateway'));
    backup.reset((_req, res) => reply(res, 503, { error: { message: 'also down' } }));
    const r = await post(url, { model: 'smart', ...hello });
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('smart');
    expect(r.json.choices[0].message.content).toBe('hi');
    expect(vllm.requests).toHaveLength(3);
    expect(backup.requests).toHaveLength(1);
    backup.reset((req, res) => reply(res, 200, completion(req.json.model, 'from backup')));
    const r2 = await post(url, { model: 'smart', ...hello });
    expect(r2.json).toMatchObject({ model: 'smart', choices: [{ message: { content: 'from backup' } }] });
    expect(backup.requests[0].json.model).toBe('backup-model');
  });

  it('spreads a model over weighted targets', async () => {
    await sleep(350); // earlier tests left vllm cooling down
    for (let i = 0; i < 200; i++) expect((await post(url, { model: 'spread', ...hello })).status).toBe(200);
    expect(vllm.requests.every((r) => r.json.model === 'big')).toBe(true);
    expect(backup.requests.every((r) => r.json.model === 'small')).toBe(true);
    expect(vllm.requests.length / 200).toBeGreaterThan(0.62);
    expect(vllm.requests.length / 200).toBeLessThan(0.88);
  });

  it('cools a failing target down: its share moves to the other target for a while', async () => {
    await sleep(350);
    vllm.reset((_req, res) => reply(res, 500, { error: { message: 'sick' } }));
    const started = Date.now();
    for (let i = 0; i < 30; i++) expect((await post(url, { model: 'spread', ...hello })).status).toBe(200);
    // Three failures cool it down for cooldownMs (300); a slow machine may see a window pass, and then one probe each.
    const windowsPassed = Math.floor((Date.now() - started) / 300);
    expect(vllm.requests.length).toBeLessThanOrEqual(3 + windowsPassed);
    expect(backup.requests.length).toBe(30);
  });

  it('answers 504 when the upstream does not answer within timeoutMs', async () => {
    vllm.reset(() => undefined);
    const started = Date.now();
    const r = await post(url, { model: 'qwen3-8b', ...hello });
    expect(r.status).toBe(504);
    expect(r.json.error).toMatchObject({ code: 'upstream_timeout', type: 'server_error' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(vllm.requests).toHaveLength(1);
  });

  it('answers 504 when a non-streamed reply trickles in past timeoutMs, each piece in time', async () => {
    let stopped = false;
    vllm.reset(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"x","object":"chat.completion",');
      // Every piece comes well within timeoutMs of the last: only the whole-reply deadline can end it.
      for (let i = 0; i < 40 && !stopped && !res.destroyed; i++) {
        await sleep(50);
        res.write(' ');
      }
      res.end('"choices":[]}');
    });
    const started = Date.now();
    const r = await post(url, { model: 'qwen3-8b', ...hello });
    stopped = true;
    expect(r.status).toBe(504);
    expect(r.json.error).toMatchObject({ code: 'upstream_timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('ends a stream with an error event and no [DONE] when the upstream goes silent mid-stream', async () => {
    vllm.reset(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(req.json.model, { role: 'assistant', content: 'partial' }))}\n\n`);
    });
    const r = await post(url, { model: 'qwen3-8b', ...hello, stream: true });
    const frames = sseData(r.text);
    expect(frames).not.toContain('[DONE]');
    expect(JSON.parse(frames.at(-1)!)).toMatchObject({ error: { code: 'upstream_timeout' } });
  });

  it('ends a stream with an error event when the upstream connection drops mid-stream', async () => {
    vllm.reset(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(req.json.model, { role: 'assistant', content: 'a' }))}\n\n`);
      await sleep(50);
      res.destroy();
    });
    const r = await post(url, { model: 'qwen3-8b', ...hello, stream: true });
    const frames = sseData(r.text);
    expect(frames[0]).toContain('"content":"a"');
    expect(frames).not.toContain('[DONE]');
    expect(JSON.parse(frames.at(-1)!).error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  });

  it('relays an error event the upstream sends mid-stream', async () => {
    vllm.reset((req, res) =>
      streamFrames(res, [chunk(req.json.model, { role: 'assistant', content: '' }), { error: { message: 'GPU fell over', type: 'server_error' } }], {
        done: false,
      }),
    );
    const frames = sseData((await post(url, { model: 'qwen3-8b', ...hello, stream: true })).text);
    expect(JSON.parse(frames.at(-1)!).error.message).toContain('GPU fell over');
  });

  it.each([false, true])('aborts the upstream request within 100 ms when the client leaves (stream: %s)', async (stream) => {
    vllm.reset(async (req, res) => {
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk(req.json.model, { role: 'assistant', content: '' }))}\n\n`);
      }
    });
    const controller = new AbortController();
    const pending = fetch(url, {
      method: 'POST',
      headers: authHeaders(),
      body: JSON.stringify({ model: 'qwen3-8b', ...hello, stream }),
      signal: controller.signal,
    }).then(async (res) => {
      const reader = res.body!.getReader();
      await reader.read();
      return reader.read();
    });
    pending.catch(() => undefined);
    while (vllm.requests.length === 0) await sleep(5);
    await sleep(50);
    const abortedAt = Date.now();
    controller.abort();
    await vllm.requests[0].closed;
    expect(vllm.requests[0].closedAt! - abortedAt).toBeLessThan(100);
    expect(vllm.requests[0].finished).toBe(false);
  });

  it('works with the official openai SDK, streaming included', async () => {
    vllm.reset((req, res) =>
      req.json.stream
        ? streamFrames(res, [
            chunk(req.json.model, { role: 'assistant', content: '' }),
            chunk(req.json.model, { content: 'streamed' }),
            chunk(req.json.model, {}, 'stop'),
          ])
        : reply(res, 200, completion(req.json.model, 'plain')),
    );
    const client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'qwen3-8b', messages: [{ role: 'user', content: 'x' }] });
    expect(r.choices[0].message.content).toBe('plain');
    let text = '';
    for await (const c of await client.chat.completions.create({ model: 'qwen3-8b', messages: [{ role: 'user', content: 'x' }], stream: true })) {
      expect(c.model).toBe('qwen3-8b');
      text += String(c.choices[0]?.delta.content ?? '');
    }
    expect(text).toBe('streamed');
  });
});

describe('the openai backend on its own', () => {
  const vllm = new MockUpstream();
  const quiet: RouterEvents = { retry() {}, fallback() {}, upstreamError() {}, adapterLoaded() {}, adapterUnloaded() {}, adapterHit() {} };
  let backend: OpenAiCompatibleBackend;

  beforeAll(async () => {
    await vllm.start();
    backend = new OpenAiCompatibleBackend('vllm', { ...new OpenAiProviderConfig(), baseURL: vllm.baseURL, timeoutMs: 300 }, quiet);
  });
  afterAll(async () => {
    await vllm.stop();
    await backend.close();
  });

  it('does not count a slow reader against the deadline: a healthy stream read with pauses longer than timeoutMs completes', async () => {
    const words = ['a ', 'steady ', 'stream ', 'of ', 'text ', 'that ', 'keeps ', 'coming'];
    vllm.reset((req, res) =>
      streamFrames(
        res,
        [
          chunk(req.json.model, { role: 'assistant', content: '' }),
          ...words.map((w) => chunk(req.json.model, { content: w })),
          chunk(req.json.model, {}, 'stop'),
        ],
        { gapMs: 100 },
      ),
    );
    const chunks: ChatCompletionChunk[] = [];
    const json = { model: 'qwen', messages: [{ role: 'user', content: 'hi' }], stream: true };
    const request: BackendRequest = { body: { json }, requestedModel: 'qwen', model: 'qwen' };
    // The upstream keeps sending while the reader is away (as when a client's socket is full): its events wait, unread.
    for await (const { chunk } of backend.stream(request, new AbortController().signal)) if (chunks.push(chunk) === 2) await sleep(900);
    expect(chunks.map((c) => (c.choices[0]?.delta.content as string | undefined) ?? '').join('')).toBe(words.join(''));
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
  });
});
