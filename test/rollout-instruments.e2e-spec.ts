import { RolloutCheckError, runRollout, type RolloutOptions } from './support/rollout-client.js';
import { sleep } from './support/mock-upstream.js';
import { IM_END, VllmRolloutMock } from './support/vllm-rollout-mock.js';

// The instruments issue #19's service will be proved against, proved here against each other: client → mock, no service.
const KEY = 'vllm-key-0123456789';
const messages = [{ role: 'user', content: 'Sort these words: pear apple fig' }];
const training = { logprobs: true, top_logprobs: 2, return_tokens_as_token_ids: true, return_token_ids: true };

describe('rollout instruments: the ART-like client against the vLLM-accurate mock', () => {
  const vllm = new VllmRolloutMock({ apiKey: KEY });
  const base = vllm.baseModel;
  const ask = (extra: Record<string, unknown> = {}) => ({ model: base, messages, n: 2, seed: 7, ...training, ...extra });
  const rollout = (body: Record<string, unknown>, options: RolloutOptions = {}) => runRollout(vllm.baseURL, KEY, body, options);
  const failedCheck = (p: Promise<unknown>) =>
    p.then(
      () => 'passed',
      (err) => (err instanceof RolloutCheckError ? err.check : `threw ${err}`),
    );
  const call = async (path: string, body: unknown, method = 'POST') => {
    const res = await fetch(`${vllm.baseURL}/${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  const streamFrames = async (body: Record<string, unknown>) => {
    const { text } = await call('chat/completions', { ...body, stream: true });
    return text.split('\n\n').filter(Boolean);
  };

  beforeAll(() => vllm.start());
  afterAll(() => vllm.stop());
  afterEach(() => {
    vllm.faults = {};
    vllm.replyWords = undefined;
  });

  it.each([false, true])(
    'n=2 (stream %s): every choice has logprobs and token ids that spell its text, and they sum to usage.completion_tokens',
    async (stream) => {
      const t = await rollout(ask(stream ? { stream_options: { include_usage: true } } : {}), { stream, matchChoicesBy: 'index' });

      expect(t.choices.map((c) => c.index)).toEqual([0, 1]);
      for (const c of t.choices) {
        expect(c.tokenIdsFrom).toBe('token_ids');
        expect(c.logprobs).toHaveLength(c.tokenIds.length);
        expect(c.tokenIds.at(-1)).toBe(IM_END);
        expect(c.finishReason).toBe('stop');
        expect(vllm.tokenizer.decode(c.tokenIds)).toBe(c.content);
      }
      expect(t.choices[0].tokenIds).not.toEqual(t.choices[1].tokenIds);
      expect(t.usage!.completion_tokens).toBe(t.choices[0].tokenIds.length + t.choices[1].tokenIds.length);
      expect(t.promptTokenIds).toEqual(vllm.promptTokenIds(messages));
      expect(t.usage!.prompt_tokens).toBe(t.promptTokenIds!.length);
      expect(t.usage!.total_tokens).toBe(t.usage!.prompt_tokens + t.usage!.completion_tokens);
    },
  );

  it('a stream and a plain reply with the same seed carry the same tokens and logprobs', async () => {
    const plain = await rollout(ask());
    const streamed = await rollout(ask({ stream_options: { include_usage: true } }), { stream: true, matchChoicesBy: 'index' });
    expect(streamed.choices).toEqual(plain.choices);
    expect(streamed.usage).toEqual({
      prompt_tokens: plain.usage!.prompt_tokens,
      completion_tokens: plain.usage!.completion_tokens,
      total_tokens: plain.usage!.total_tokens,
    });
  });

  it("ART's reader matches streamed choices by position: it reads n=1, and refuses vLLM's one-choice-per-chunk n=2 stream instead of merging it", async () => {
    const one = await rollout(ask({ n: 1, stream_options: { include_usage: true } }), { stream: true });
    expect(one.choices).toHaveLength(1);
    expect(one.choices[0].tokenIds).toHaveLength(one.usage?.completion_tokens ?? NaN);
    expect(await failedCheck(rollout(ask(), { stream: true }))).toBe('stream-choice-position');
  });

  it('reads token ids from `token_id:<id>` tokens when the reply has no token_ids, and needs prompt ids only when asked to', async () => {
    const body = ask({ return_token_ids: false });
    expect(await failedCheck(rollout(body))).toBe('prompt-token-ids-missing');
    const t = await rollout(body, { requirePromptTokenIds: false });
    expect(t.choices.map((c) => c.tokenIdsFrom)).toEqual(['token_id:', 'token_id:']);
    for (const c of t.choices) expect(vllm.tokenizer.decode(c.tokenIds)).toBe(c.content);
    expect(await failedCheck(rollout(ask({ return_token_ids: false, return_tokens_as_token_ids: false }), { requirePromptTokenIds: false }))).toBe(
      'token-ids-missing',
    );
  });

  describe.each([false, true])('faults on demand (stream %s): the client passes the same rollout until the fault is injected', (stream) => {
    const options: RolloutOptions = { stream, matchChoicesBy: 'index' };
    const body = () => ask(stream ? { stream_options: { include_usage: true } } : {});

    it.each([
      ['logprobs removed', { dropLogprobs: true }, 'logprobs-missing'],
      ['usage one token more than the choices hold', { usageDelta: 1 }, 'usage-mismatch'],
      ['usage one token less', { usageDelta: -1 }, 'usage-mismatch'],
    ] as const)('%s', async (_, fault, check) => {
      expect(await failedCheck(rollout(body(), options))).toBe('passed');
      vllm.faults = { ...fault };
      expect(await failedCheck(rollout(body(), options))).toBe(check);
    });

    it('token ids removed, with tokens written as text', async () => {
      const text = () => ask({ return_tokens_as_token_ids: false, ...(stream ? { stream_options: { include_usage: true } } : {}) });
      expect(await failedCheck(rollout(text(), options))).toBe('passed');
      vllm.faults = { dropTokenIds: true };
      expect(await failedCheck(rollout(text(), { ...options, requirePromptTokenIds: false }))).toBe('token-ids-missing');
    });
  });

  it.each(['no-done', 'destroy'] as const)('a stream cut before data: [DONE] (%s) is dropped', async (streamEnd) => {
    const body = ask({ stream_options: { include_usage: true } });
    expect(await failedCheck(rollout(body, { stream: true, matchChoicesBy: 'index' }))).toBe('passed');
    vllm.faults = { streamEnd };
    expect(await failedCheck(rollout(body, { stream: true, matchChoicesBy: 'index' }))).toBe('stream-incomplete');
  });

  it('a rollout that does not ask for logprobs, or asks with top_logprobs: null, gets none from vLLM, and the trainer rejects it', async () => {
    const { logprobs: _, top_logprobs: __, ...noLogprobs } = ask();
    expect(await failedCheck(rollout(noLogprobs))).toBe('logprobs-missing');
    expect(await failedCheck(rollout(ask({ top_logprobs: null })))).toBe('logprobs-missing');
    expect(await failedCheck(rollout(ask({ top_logprobs: 0 })))).toBe('passed');
  });

  it('logprobs entries: the sampled token first among top_logprobs, `bytes` of the decoded token, top entries` bytes of their `token_id:` string', async () => {
    const { json } = await call('chat/completions', ask({ n: 1 }));
    const entry = json.choices[0].logprobs.content[0];
    const id = json.choices[0].token_ids[0];
    expect(entry.token).toBe(`token_id:${id}`);
    expect(entry.bytes).toEqual([...Buffer.from(vllm.tokenizer.piece(id))]);
    expect(entry.top_logprobs).toHaveLength(2);
    expect(entry.top_logprobs[0]).toEqual({ token: `token_id:${id}`, logprob: entry.logprob, bytes: [...Buffer.from(`token_id:${id}`)] });
    expect(entry.top_logprobs[1].logprob).toBeLessThan(entry.logprob);
    const last = json.choices[0].logprobs.content.at(-1);
    expect(last.bytes).toEqual([...Buffer.from('<|im_end|>')]);
    const asText = await call('chat/completions', ask({ n: 1, return_tokens_as_token_ids: false, top_logprobs: 0 }));
    expect(asText.json.choices[0].logprobs.content[0]).toEqual({
      token: vllm.tokenizer.piece(id),
      logprob: entry.logprob,
      bytes: entry.bytes,
      top_logprobs: [],
    });
  });

  it('max_tokens cuts a choice short with finish_reason "length" and no end-of-turn token', async () => {
    const t = await rollout(ask({ max_tokens: 2 }));
    for (const c of t.choices) {
      expect(c).toMatchObject({ finishReason: 'length' });
      expect(c.tokenIds).toHaveLength(2);
      expect(c.tokenIds).not.toContain(IM_END);
    }
    expect(t.usage!.completion_tokens).toBe(4);
  });

  describe("vLLM's reply shapes", () => {
    it('a plain reply is model_dump(): every field, nulls included, in pydantic field order', async () => {
      const { status, type, json } = await call('chat/completions', { model: base, messages });
      expect([status, type]).toEqual([200, 'application/json']);
      expect(Object.keys(json)).toEqual([
        'id',
        'object',
        'created',
        'model',
        'choices',
        'service_tier',
        'system_fingerprint',
        'usage',
        'prompt_logprobs',
        'prompt_token_ids',
        'kv_transfer_params',
      ]);
      expect(json.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
      expect(json.choices[0]).toMatchObject({ index: 0, logprobs: null, finish_reason: 'stop', stop_reason: null, token_ids: null });
      expect(Object.keys(json.choices[0].message)).toEqual(['role', 'content', 'refusal', 'annotations', 'audio', 'function_call', 'tool_calls', 'reasoning']);
      expect(Object.keys(json.usage)).toEqual(['prompt_tokens', 'total_tokens', 'completion_tokens', 'prompt_tokens_details']);
      expect(json.prompt_token_ids).toBeNull();
    });

    it('a stream: role chunks with prompt_token_ids, one choice a chunk, stop_reason on the last, usage only when asked, then [DONE]', async () => {
      vllm.replyWords = 2;
      const frames = await streamFrames(ask({ stream_options: { include_usage: true } }));
      const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
      expect(frames.at(-1)).toBe('data: [DONE]');
      const role = chunks[0];
      expect(Object.keys(role)).toEqual(['id', 'object', 'created', 'model', 'choices', 'prompt_token_ids']);
      expect(role.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '', reasoning_content: null }, logprobs: null, finish_reason: null }]);
      expect(chunks[1].choices[0].index).toBe(1);
      expect(chunks[1].prompt_token_ids).toEqual(role.prompt_token_ids);
      const content = chunks[2];
      expect(Object.keys(content)).toEqual(['id', 'object', 'created', 'model', 'choices']);
      expect(Object.keys(content.choices[0])).toEqual(['index', 'delta', 'logprobs', 'finish_reason', 'token_ids']);
      expect(content.choices[0].token_ids).toHaveLength(1);
      const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
      expect(finishes.map((c) => Object.keys(c.choices[0]))).toEqual(
        [0, 1].map(() => ['index', 'delta', 'logprobs', 'finish_reason', 'stop_reason', 'token_ids']),
      );
      expect(finishes.map((c) => [c.choices[0].delta.content, c.choices[0].token_ids])).toEqual([
        ['', [IM_END]],
        ['', [IM_END]],
      ]);
      expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
      expect(chunks.at(-1)).toEqual({
        id: role.id,
        object: 'chat.completion.chunk',
        created: role.created,
        model: base,
        choices: [],
        usage: { prompt_tokens: role.prompt_token_ids.length, total_tokens: role.prompt_token_ids.length + 6, completion_tokens: 6 },
      });
    });

    it('a stream without return_token_ids: prompt_token_ids null on role chunks, token_ids null on content chunks; usage follows stream_options', async () => {
      const plain = (await streamFrames({ model: base, messages })).slice(0, -1).map((f) => JSON.parse(f.slice(6)));
      expect(plain[0].prompt_token_ids).toBeNull();
      expect(plain[1].choices[0].token_ids).toBeNull();
      expect(plain.some((c) => 'usage' in c)).toBe(false);
      const empty = (await streamFrames({ model: base, messages, stream_options: {} })).slice(0, -1).map((f) => JSON.parse(f.slice(6)));
      expect(empty.at(-1).choices).toEqual([]);
      const off = (await streamFrames({ model: base, messages, stream_options: { include_usage: false } })).slice(0, -1).map((f) => JSON.parse(f.slice(6)));
      expect(off.some((c) => 'usage' in c)).toBe(false);
    });

    it('errors: 404 for a model it does not hold, 400 for stream_options without stream, 401 without the key', async () => {
      expect(await call('chat/completions', { model: 'wandb-artifact:///e/p/n:step3', messages })).toMatchObject({
        status: 404,
        json: { error: { message: 'The model `wandb-artifact:///e/p/n:step3` does not exist.', type: 'NotFoundError', param: 'model', code: 404 } },
      });
      const bad = await call('chat/completions', { model: base, messages, stream_options: { include_usage: true } });
      expect(bad).toMatchObject({ status: 400, json: { error: { type: 'Bad Request', param: 'stream_options', code: 400 } } });
      expect(bad.json.error.message).toContain('Stream options can only be defined when `stream=True`.');
      const res = await fetch(`${vllm.baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify(ask()) });
      expect([res.status, await res.json()]).toEqual([401, { error: 'Unauthorized' }]);
    });
  });

  describe('LoRA adapters at runtime', () => {
    const name = 'wandb-artifact:///e/p/agent:step1';
    const path = '/adapters/e/p/agent/step1';

    afterEach(async () => {
      vllm.loadDelayMs = 0;
      vllm.pathExists = () => true;
      for (const held of [...vllm.loaded.keys()]) await call('unload_lora_adapter', { lora_name: held });
    });

    it('load, serve, list, unload, with vLLM bodies and statuses; the server records what it was asked', async () => {
      const loadsBefore = vllm.loads;
      expect(await call('load_lora_adapter', { lora_name: name, lora_path: path })).toMatchObject({
        status: 200,
        type: null,
        text: `Success: LoRA adapter '${name}' added successfully.`,
      });
      expect(await call('load_lora_adapter', { lora_name: name, lora_path: path })).toMatchObject({
        status: 400,
        json: {
          error: {
            message: `The lora adapter '${name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.`,
            type: 'InvalidUserInput',
            param: null,
            code: 400,
          },
        },
      });
      expect((await rollout(ask({ model: name }))).model).toBe(name);
      const models = (await call('models', undefined, 'GET')).json;
      expect(models.data.map((m: any) => [m.id, m.root, m.parent])).toEqual([
        [base, base, null],
        [name, path, base],
      ]);
      expect(await call('unload_lora_adapter', { lora_name: name })).toMatchObject({
        status: 200,
        text: `Success: LoRA adapter '${name}' removed successfully.`,
      });
      expect(await call('unload_lora_adapter', { lora_name: name })).toMatchObject({
        status: 404,
        json: { error: { message: `The lora adapter '${name}' cannot be found.`, type: 'NotFoundError', param: null, code: 404 } },
      });
      expect(await failedCheck(rollout(ask({ model: name })))).toBe('http-status');
      expect([vllm.loads - loadsBefore, vllm.bodies('load_lora_adapter').slice(-2)]).toEqual([
        1,
        [
          { lora_name: name, lora_path: path },
          { lora_name: name, lora_path: path },
        ],
      ]);
      expect(vllm.bodies('chat/completions').at(-1)).toEqual(ask({ model: name }));
    });

    it('a path with no adapter is 404 NotFoundError; a slow load answers after its delay; two loads of one name at once: one 200, one 400', async () => {
      vllm.pathExists = (p) => p === path;
      expect(await call('load_lora_adapter', { lora_name: 'x', lora_path: '/nowhere' })).toMatchObject({
        status: 404,
        json: { error: { message: 'Loading lora x failed: No adapter found for /nowhere', type: 'NotFoundError', code: 404 } },
      });
      vllm.loadDelayMs = 150;
      const started = performance.now();
      const both = await Promise.all([0, 1].map(() => call('load_lora_adapter', { lora_name: name, lora_path: path })));
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(both.map((r) => r.status).sort()).toEqual([200, 400]);
      expect([...vllm.loaded]).toEqual([[name, path]]);
    });

    it('a stream in flight finishes after its adapter is unloaded, as in vLLM; new requests for it are 404', async () => {
      await call('load_lora_adapter', { lora_name: name, lora_path: path });
      const release = vllm.holdStreams();
      const inFlight = rollout(ask({ model: name, stream_options: { include_usage: true } }), { stream: true, matchChoicesBy: 'index' });
      while (vllm.bodies('chat/completions').at(-1)?.model !== name) await sleep(5);
      await call('unload_lora_adapter', { lora_name: name });
      expect((await call('chat/completions', ask({ model: name }))).status).toBe(404);
      release();
      const t = await inFlight;
      expect(t.choices).toHaveLength(2);
      expect(t.model).toBe(name);
    });
  });
});
