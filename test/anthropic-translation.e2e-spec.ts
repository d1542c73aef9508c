import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { authHeaders, post, sseData, startApp, type RunningApp } from './support/app.js';
import { AnthropicMock, message, messageEvents, sendEvents, sendMessage, type Block } from './support/anthropic-mock.js';
import { AnthropicReplay, fixture } from './support/anthropic-replay.js';
import { writeConfig } from './support/config-file.js';
import { chunk, MockUpstream, reply, sleep, streamFrames } from './support/mock-upstream.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';
import { VllmRolloutMock } from './support/vllm-rollout-mock.js';

// Issue #20's ten peer failures, each through the running service over real HTTP, against the recorded Anthropic
// replies (AnthropicReplay), a scripted Messages API (AnthropicMock) and OpenAI-compatible upstreams on 127.0.0.1.

type Json = Record<string, any>;
const ANTHROPIC_KEY = 'sk-ant-translation';
const VLLM_KEY = 'vllm-translation-key';
const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const KEYS = ['sk-main', 'sk-probe-replay', 'sk-spent-replay', 'sk-probe-vllm', 'sk-spent-vllm'];

function keyFile(): string {
  const run = randomUUID().slice(0, 8);
  const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.yaml');
  writeFileSync(file, stringify(KEYS.map((key) => ({ name: `${key}-${run}`, sha256: sha(key), ...(key !== 'sk-main' && { tpm: 1_000_000 }) }))));
  return file;
}

/** A streamed reply as the client reads it: every frame, the chunks, and what is wrong with the framing. */
function frames(text: string) {
  const data = sseData(text);
  const done = data.at(-1) === '[DONE]';
  const chunks: Json[] = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
  const deltas = chunks.filter((c) => c.choices?.length).map((c) => c.choices[0].delta);
  return { data, done, chunks, deltas, finish: chunks.filter((c) => c.choices?.[0]?.finish_reason).map((c) => c.choices[0].finish_reason) };
}

/** The tool calls a client builds from the deltas, OpenAI style, and the first delta of each. */
function toolCalls(deltas: Json[]) {
  const calls: { first: Json; later: Json[]; id?: string; name?: string; arguments: string }[] = [];
  for (const d of deltas) {
    for (const t of d.tool_calls ?? []) {
      const call = calls[t.index];
      if (!call) calls[t.index] = { first: t, later: [], id: t.id, name: t.function?.name, arguments: t.function?.arguments ?? '' };
      else {
        call.later.push(t);
        call.arguments += t.function?.arguments ?? '';
      }
    }
  }
  return calls;
}

describe('issue #20: the peers’ translation failures, through the service', () => {
  const replay = new AnthropicReplay(ANTHROPIC_KEY);
  const scripted = new AnthropicMock(ANTHROPIC_KEY);
  const vllm = new VllmRolloutMock({ apiKey: VLLM_KEY });
  const compat = new MockUpstream();
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    await Promise.all([replay.start(), scripted.start(), vllm.start(), compat.start()]);
    const config = writeConfig(`
providers:
  recorded:
    type: anthropic
    baseURL: ${replay.baseURL}
    apiKey: ${ANTHROPIC_KEY}
    maxRetries: 0
  scripted:
    type: anthropic
    baseURL: ${scripted.baseURL}
    apiKey: ${ANTHROPIC_KEY}
    maxRetries: 0
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    apiKey: ${VLLM_KEY}
    maxRetries: 0
  compat:
    type: openai
    baseURL: ${compat.baseURL}
    maxRetries: 0
  echo:
    type: echo
models:
  - name: replay
    provider: recorded
    model: claude-sonnet-4-5
  - name: claude
    provider: scripted
    model: claude-opus-4-8
  - name: qwen
    provider: vllm
    model: ${vllm.baseModel}
  - name: compat
    provider: compat
  - name: echo
    provider: echo
`);
    running = await startApp({ API_KEYS: undefined, REDIS_URL: undefined, RATE_LIMIT_WINDOW_SECONDS: '60', CONFIG_FILE: config, API_KEYS_FILE: keyFile() });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await Promise.all([replay.stop(), scripted.stop(), vllm.stop(), compat.stop()]);
    await running.close();
  });

  const ask = (body: Json, key = 'sk-main') => post(url, { messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }], ...body }, authHeaders(key));
  const streamed = async (body: Json, key?: string) => {
    const r = await ask({ stream: true, ...body }, key);
    expect(r.status).toBe(200);
    return { ...frames(r.text), text: r.text };
  };
  const weatherTool = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

  it.each([['whole'], [{ seed: 7, max: 23 }], [1]] as const)(
    '1 and 2: thinking → text → tool_use (cut %j) gives one tool call that starts with index, id, type and name, later only arguments, and tool_calls',
    async (cuts) => {
      replay.play('thinking-text-tool-use', { cuts: cuts as never });
      const r = await streamed({ model: 'replay', tools: weatherTool });
      const calls = toolCalls(r.deltas);
      expect(calls).toHaveLength(1);
      expect(calls[0].first).toEqual({ index: 0, id: 'toolu_01WZiYJ1SHx3HbDFJpXsAUMM', type: 'function', function: { name: 'get_weather', arguments: '' } });
      for (const later of calls[0].later) expect(Object.keys(later).sort()).toEqual(['function', 'index']);
      for (const later of calls[0].later) expect(Object.keys(later.function)).toEqual(['arguments']);
      expect(JSON.parse(calls[0].arguments)).toEqual({ city: 'Paris', unit: 'celsius' });
      expect(r.finish).toEqual(['tool_calls']);
      expect(r.deltas.map((d) => d.reasoning_content ?? '').join('')).toContain('I should call it with city Paris.');
      expect(r.done).toBe(true);
    },
  );

  it('3: two parallel tool calls keep distinct indexes and ids, and each arguments parses', async () => {
    replay.play('parallel-tool-use', { cuts: { seed: 3, max: 11 } });
    const calls = toolCalls((await streamed({ model: 'replay', tools: weatherTool })).deltas);
    expect(calls.map((c) => c.first.index)).toEqual([0, 1]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(calls.map((c) => JSON.parse(c.arguments))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
  });

  it('4: the usage chunk has choices [], comes right before [DONE], and keeps reasoning_tokens', async () => {
    const thinking: Block = { type: 'thinking', thinking: 'Short summary of a longer thought.', signature: 'U2lnbmVkQnlBbnRocm9waWM=' };
    scripted.reset((call, res) =>
      sendEvents(
        res,
        messageEvents(
          message(call.json.model, [thinking, { type: 'text', text: 'Sunny.' }], 'end_turn', {
            input_tokens: 40,
            output_tokens: 300,
            output_tokens_details: { thinking_tokens: 280 },
          }),
        ),
      ),
    );
    const r = await streamed({ model: 'claude', reasoning_effort: 'high', stream_options: { include_usage: true } });
    expect(r.data.at(-1)).toBe('[DONE]');
    const last = r.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 300, completion_tokens_details: { reasoning_tokens: 280 } });
    expect(r.chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
    expect(scripted.calls[0].json).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
  });

  /** x-ratelimit-remaining-tokens after a small probe: two keys' difference is what the first was charged. */
  const remainingAfterProbe = async (key: string) => {
    const r = await post(url, { model: 'echo', max_tokens: 1, messages: [{ role: 'user', content: 'probe' }] }, authHeaders(key));
    expect(r.status).toBe(200);
    return Number(r.headers.get('x-ratelimit-remaining-tokens'));
  };

  it.each([
    ['anthropic', 'replay', 'replay', 21 + 1536 + 4096, 12],
    ['openai (vLLM)', 'qwen', 'vllm', 0, 0],
  ])(
    '5: %s, streamed: non-zero prompt and completion tokens, and the key is charged exactly the upstream usage',
    async (_, model, keys, prompt, completion) => {
      const key = `sk-spent-${keys}`;
      replay.play('cache-usage');
      const r = await streamed({ model, stream_options: { include_usage: true }, max_tokens: 30 }, key);
      const usage = r.chunks.at(-1)!.usage;
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBeGreaterThan(0);
      if (prompt) expect([usage.prompt_tokens, usage.completion_tokens]).toEqual([prompt, completion]);
      await sleep(100);
      // Both keys then send the same probe: the difference of what they have left is what the stream was charged.
      expect((await remainingAfterProbe(`sk-probe-${keys}`)) - (await remainingAfterProbe(key))).toBe(usage.total_tokens);
    },
  );

  it.each([false, true])('6: logprobs without top_logprobs never gives top_logprobs: null (anthropic and vLLM, stream %s)', async (stream) => {
    replay.play('text');
    for (const model of ['replay', 'qwen']) {
      const r = await ask({ model, logprobs: true, stream, ...(stream && { stream_options: { include_usage: true } }) });
      expect(r.status).toBe(200);
      expect(r.text).not.toMatch(/"top_logprobs":\s*null/);
      const choices = stream ? frames(r.text).chunks.flatMap((c) => c.choices) : r.json.choices;
      const entries = choices.flatMap((c: Json) => c.logprobs?.content ?? []);
      // Anthropic has no logprobs (null, with a warning in the log); vLLM gives each token an empty top list.
      expect(entries.length > 0).toBe(model === 'qwen');
      for (const entry of entries) expect(entry.top_logprobs).toEqual([]);
      if (model === 'replay' && !stream) expect(openAiSchemaErrors('CreateChatCompletionResponse', r.json)).toEqual([]);
      if (model === 'replay' && stream) for (const c of frames(r.text).chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
    }
    expect(vllm.bodies('chat/completions').at(-1)).toMatchObject({ logprobs: true });
    expect(vllm.bodies('chat/completions').at(-1)).not.toHaveProperty('top_logprobs');
  });

  it.each([
    ['text', 'stop'],
    ['max-tokens', 'length'],
    ['refusal', 'content_filter'],
    ['thinking-text-tool-use', 'tool_calls'],
    ['structured-output', 'stop'],
  ])('7: recorded %s ends with finish_reason %s, streamed and not', async (name, finish) => {
    replay.play(name);
    expect((await ask({ model: 'replay' })).json.choices[0].finish_reason).toBe(finish);
    expect((await streamed({ model: 'replay' })).finish).toEqual([finish]);
  });

  it('7: an unknown stop_reason is passed on as written; a reply without one is an error, never a silent stop', async () => {
    scripted.reset((call, res) => {
      const msg = message(call.json.model, [{ type: 'text', text: 'Compacted.' }], 'compaction');
      return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
    });
    expect((await ask({ model: 'claude' })).json.choices[0].finish_reason).toBe('compaction');
    expect((await streamed({ model: 'claude' })).finish).toEqual(['compaction']);
    scripted.reset((call, res) => {
      const msg = { ...message(call.json.model, [{ type: 'text', text: 'Cut.' }]), stop_reason: null as never };
      return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
    });
    const plain = await ask({ model: 'claude' });
    expect([plain.status, plain.json.error.code]).toEqual([502, 'upstream_invalid_reply']);
    const r = await streamed({ model: 'claude' });
    expect(r.finish).toEqual([]);
    expect(r.done).toBe(false);
    expect(r.chunks.at(-1)).toMatchObject({ error: { code: 'upstream_invalid_reply' } });
  });

  it('8: reasoning and reasoning_content from an OpenAI-compatible upstream reach the client unchanged, streamed and not', async () => {
    compat.reset((req, res) => {
      if (!req.json.stream) {
        return reply(res, 200, {
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: req.json.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Hi.', reasoning: 'new name', reasoning_content: 'old name' },
              finish_reason: 'stop',
              logprobs: null,
            },
          ],
        });
      }
      return streamFrames(res, [
        chunk(req.json.model, { role: 'assistant', content: '' }),
        chunk(req.json.model, { reasoning: 'think' }),
        chunk(req.json.model, { reasoning_content: 'ing' }),
        chunk(req.json.model, { content: 'Hi.' }, 'stop'),
      ]);
    });
    const plain = await ask({ model: 'compat' });
    expect(plain.json.choices[0].message).toMatchObject({ reasoning: 'new name', reasoning_content: 'old name' });
    expect((await streamed({ model: 'compat' })).deltas.slice(1, 3)).toEqual([{ reasoning: 'think' }, { reasoning_content: 'ing' }]);
  });

  it.each(['reasoning', 'reasoning_content'])(
    '8: an assistant message sent back with %s and its signed blocks reaches Anthropic as thinking, first',
    async (name) => {
      scripted.reset((call, res) => sendMessage(res, message(call.json.model, [{ type: 'text', text: 'It is 21°C.' }])));
      const blocks = [
        { type: 'thinking', thinking: 'Call get_weather for Paris.', signature: 'RXVqQVNIYU5RZjBK' },
        { type: 'redacted_thinking', data: 'UlczQ0x0TWNXNk8z' },
      ];
      const assistant = {
        role: 'assistant',
        content: null,
        [name]: 'Call get_weather for Paris.',
        thinking_blocks: blocks,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      };
      const r = await ask({
        model: 'claude',
        reasoning_effort: 'low',
        tools: weatherTool,
        messages: [{ role: 'user', content: 'Weather?' }, assistant, { role: 'tool', tool_call_id: 'toolu_1', content: '21°C' }],
      });
      expect(r.status).toBe(200);
      const sent = scripted.calls[0].json;
      expect(sent.messages[1].content).toEqual([...blocks, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }]);
      expect(sent.thinking).toEqual({ type: 'adaptive', display: 'summarized' });
    },
  );

  const killed = async (model: string) => {
    const started = Date.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: authHeaders('sk-main'),
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
    });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - started };
  };
  const endsWithOneErrorEvent = (text: string) => {
    expect(text.endsWith('\n\n')).toBe(true);
    const data = sseData(text);
    expect(
      text
        .split('\n\n')
        .filter(Boolean)
        .every((f) => f.startsWith('data: ')),
    ).toBe(true);
    const parsed = data.map((d) => JSON.parse(d));
    expect(parsed.at(-1)).toEqual({ error: expect.objectContaining({ message: expect.any(String), type: expect.any(String), code: expect.any(String) }) });
    expect(parsed.slice(0, -1).every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(data).not.toContain('[DONE]');
  };

  it('9: the Anthropic upstream killed mid-event ends the stream with \\n\\n and one well-formed error event, no [DONE], closed within a second', async () => {
    const recorded = fixture('text.sse');
    replay.play('text', { dropAfterBytes: recorded.indexOf('"text":"Hello') + 9 });
    const r = await killed('replay');
    expect(r.status).toBe(200);
    endsWithOneErrorEvent(r.text);
    expect(r.ms).toBeLessThan(1000);
  });

  it('9: the OpenAI-compatible upstream killed mid-event: the same', async () => {
    compat.reset((req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(req.json.model, { role: 'assistant', content: 'Once' }))}\n\n`);
      res.write('data: {"id":"chatcmpl-up","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" up');
      setTimeout(() => res.destroy(), 20);
    });
    const r = await killed('compat');
    expect(r.status).toBe(200);
    endsWithOneErrorEvent(r.text);
    expect(r.text).not.toContain('" up');
    expect(r.ms).toBeLessThan(1000);
  });

  it('10: the openai backend passes logprobs with tools and stream through to vLLM, and streams its logprobs back', async () => {
    const body = {
      model: 'qwen',
      stream: true,
      logprobs: true,
      top_logprobs: 2,
      tools: weatherTool,
      tool_choice: 'auto',
      messages: [{ role: 'user', content: 'hi' }],
    };
    const r = await streamed(body);
    const sent = vllm.bodies('chat/completions').at(-1);
    expect(sent).toMatchObject({ stream: true, logprobs: true, top_logprobs: 2, tools: weatherTool, tool_choice: 'auto' });
    const withLogprobs = r.chunks.filter((c) => c.choices?.[0]?.logprobs?.content?.length);
    expect(withLogprobs.length).toBeGreaterThan(0);
    for (const c of withLogprobs) expect(c.choices[0].logprobs.content[0].top_logprobs).toHaveLength(2);
    expect(r.done).toBe(true);
    // The openai SDK reads the same stream.
    const client = new OpenAI({ apiKey: 'sk-main', baseURL: `${running.url}/v1`, maxRetries: 0 });
    const stream = client.chat.completions.stream(body as never);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].logprobs?.content?.length).toBeGreaterThan(0);
  });
});
