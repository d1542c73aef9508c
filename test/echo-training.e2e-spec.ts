import OpenAI from 'openai';
import { authHeaders, KEY, post, rawPost, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';
import { RolloutCheckError, runRollout, type RolloutOptions } from './support/rollout-client.js';

// Issue #19, item 4: a platform tests its RL loop against `echo`, with no model, through the real service.
const TEXT = 'Sort these words: pear apple fig banana cherry';
const messages = [
  { role: 'system', content: 'You sort words.' },
  { role: 'user', content: TEXT },
];
const training = { model: 'echo', messages, n: 2, seed: 7, logprobs: true, top_logprobs: 2, return_tokens_as_token_ids: true, return_token_ids: true };
const words = TEXT.split(' ').map((w, i) => (i ? ` ${w}` : w));

describe('echo as a training-loop double, over HTTP', () => {
  let running: RunningApp;
  let base: string;
  let client: OpenAI;
  const rollout = (extra: Record<string, unknown> = {}, options: RolloutOptions = {}) => runRollout(base, KEY, { ...training, ...extra }, options);
  const failedCheck = (p: Promise<unknown>) =>
    p.then(
      () => 'passed',
      (err) => (err instanceof RolloutCheckError ? err.check : `threw ${err}`),
    );
  // Read with node:http: fetch inside jest takes seconds over a reply of megabytes.
  const streamed = async (body: Record<string, unknown>) => {
    const r = await rawPost(`${base}/chat/completions`, JSON.stringify({ ...body, stream: true }), authHeaders());
    expect(r.status).toBe(200);
    const data = sseData(r.text);
    expect(data.at(-1)).toBe('[DONE]');
    return data.slice(0, -1).map((d) => JSON.parse(d));
  };
  const withoutIdAndTime = (v: any) => ({ ...v, id: 0, created: 0 });

  beforeAll(async () => {
    running = await startApp({ API_KEYS: KEY });
    base = `${running.url}/v1`;
    client = new OpenAI({ apiKey: KEY, baseURL: base, maxRetries: 0 });
  });
  afterAll(() => running.close());

  it.each([false, true])(
    'n=2 (stream %s): every choice has logprobs and token ids, the ids agree with its token_id:<id> tokens, and they sum to usage',
    async (stream) => {
      const t = await rollout(stream ? { stream_options: { include_usage: true } } : {}, { stream, matchChoicesBy: 'index' });

      expect(t.model).toBe('echo');
      expect(t.choices.map((c) => c.index)).toEqual([0, 1]);
      expect(t.choices[0].content).toBe(TEXT);
      for (const c of t.choices) {
        expect(c.tokenIdsFrom).toBe('token_ids');
        expect(c.finishReason).toBe('stop');
        expect(c.logprobs).toHaveLength(c.tokenIds.length);
        // A choice says the first words of the echo: its ids are the first ids of the whole echo.
        expect(c.content).toBe(words.slice(0, c.tokenIds.length).join(''));
        expect(c.tokenIds).toEqual(t.choices[0].tokenIds.slice(0, c.tokenIds.length));
      }
      expect(t.choices[0].tokenIds).toHaveLength(words.length);
      expect(t.choices[1]).not.toEqual({ ...t.choices[0], index: 1 });
      expect(t.usage!.completion_tokens).toBe(t.choices[0].tokenIds.length + t.choices[1].tokenIds.length);
      expect(t.promptTokenIds).toHaveLength(t.usage!.prompt_tokens);
      expect(t.usage!.total_tokens).toBe(t.usage!.prompt_tokens + t.usage!.completion_tokens);
    },
  );

  it('streams and answers whole the same tokens, logprobs and usage for the same seed', async () => {
    const plain = await rollout();
    const stream = await rollout({ stream_options: { include_usage: true } }, { stream: true, matchChoicesBy: 'index' });
    expect(stream.choices).toEqual(plain.choices);
    expect(stream.promptTokenIds).toEqual(plain.promptTokenIds);
    expect(stream.usage).toEqual(plain.usage);
  });

  it('is deterministic: the same seed gives the same reply, another seed other logprobs and other lengths', async () => {
    const a = await post(`${base}/chat/completions`, { ...training, n: 4 });
    const again = await post(`${base}/chat/completions`, { ...training, n: 4 });
    expect(withoutIdAndTime(again.json)).toEqual(withoutIdAndTime(a.json));
    expect((await streamed({ ...training, n: 4 })).map(withoutIdAndTime)).toEqual((await streamed({ ...training, n: 4 })).map(withoutIdAndTime));

    const other = await post(`${base}/chat/completions`, { ...training, n: 4, seed: 8 });
    const logprobs = (r: typeof a) => r.json.choices.map((c: any) => c.logprobs.content.map((e: any) => e.logprob));
    const lengths = (r: typeof a) => r.json.choices.map((c: any) => c.token_ids.length);
    expect(logprobs(other)).not.toEqual(logprobs(a));
    expect(lengths(other)).not.toEqual(lengths(a));
    // Without a seed, echo is as deterministic as with seed 0.
    const unseeded = await post(`${base}/chat/completions`, { ...training, n: 4, seed: undefined });
    expect(withoutIdAndTime(unseeded.json)).toEqual(withoutIdAndTime((await post(`${base}/chat/completions`, { ...training, n: 4, seed: 0 })).json));
  });

  it("streams as vLLM does, one choice a chunk: ART's reader (choices by position) takes n=1 and refuses n=2, as it refuses vLLM's", async () => {
    const one = await rollout({ n: 1, stream_options: { include_usage: true } }, { stream: true });
    expect(one.choices[0].tokenIds).toHaveLength(one.usage!.completion_tokens);
    expect(await failedCheck(rollout({}, { stream: true }))).toBe('stream-choice-position');

    const chunks = await streamed({ ...training, stream_options: { include_usage: true } });
    expect(chunks.slice(0, 2).map((c) => [c.choices[0].index, c.choices[0].delta.role, c.prompt_token_ids.length])).toEqual([
      [0, 'assistant', 11],
      [1, 'assistant', 11],
    ]);
    expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.slice(2).filter((c) => 'prompt_token_ids' in c)).toEqual([]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 11 } });
    const withoutUsage = await streamed(training);
    expect(withoutUsage.filter((c) => c.usage)).toEqual([]);
  });

  it('reads ids from token_id:<id> tokens alone when token_ids are not asked for; without logprobs the trainer has nothing', async () => {
    const body = { return_token_ids: false };
    expect(await failedCheck(rollout(body))).toBe('prompt-token-ids-missing');
    const t = await rollout(body, { requirePromptTokenIds: false });
    expect(t.choices.map((c) => c.tokenIdsFrom)).toEqual(['token_id:', 'token_id:']);
    expect(t.choices[0].tokenIds).toEqual((await rollout()).choices[0].tokenIds);
    expect(await failedCheck(rollout({ logprobs: false, top_logprobs: 0 }))).toBe('logprobs-missing');
  });

  it.each([0, 3, 20])("validates against OpenAI's schemas with top_logprobs %i, streamed and not (top_logprobs a list, never null)", async (top) => {
    const body = { ...training, n: 3, top_logprobs: top };
    const whole = await post(`${base}/chat/completions`, body);
    expect(openAiSchemaErrors('CreateChatCompletionResponse', whole.json)).toEqual([]);
    for (const c of whole.json.choices) for (const e of c.logprobs.content) expect(e.top_logprobs).toHaveLength(top);
    const chunks = await streamed({ ...body, stream_options: { include_usage: true } });
    for (const chunk of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    const entries = chunks.flatMap((c) => c.choices.flatMap((x: any) => x.logprobs?.content ?? []));
    expect(entries).toHaveLength(whole.json.usage.completion_tokens);
    for (const e of entries) expect(e.top_logprobs).toHaveLength(top);
  });

  it('works through the openai SDK: n=2 whole and streamed, logprobs on every choice, usage summed over choices', async () => {
    const request = { model: 'echo', messages: [{ role: 'user' as const, content: TEXT }], n: 2, seed: 3, logprobs: true, top_logprobs: 1 };
    const r = await client.chat.completions.create(request);
    expect(r.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(r.choices[0].message.content).toBe(TEXT);
    const counts = r.choices.map((c) => c.logprobs!.content!.length);
    expect(r.usage!.completion_tokens).toBe(counts[0] + counts[1]);
    expect(r.choices.map((c) => c.logprobs!.content!.map((e) => e.token).join(''))).toEqual(r.choices.map((c) => c.message.content));

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const text = ['', ''];
    const entries: number[] = [0, 0];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text[c.index] += c.delta.content ?? '';
        entries[c.index] += c.logprobs?.content?.length ?? 0;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toEqual(r.choices.map((c) => c.message.content));
    expect(entries).toEqual(counts);
    expect(usage).toEqual(r.usage);
  });

  it.each([
    [{ n: 17 }, 'n', 'integer_above_max_value'],
    [{ n: 0 }, 'n', 'integer_below_min_value'],
    [{ top_logprobs: 21 }, 'top_logprobs', 'integer_above_max_value'],
    [{ logprobs: false }, 'top_logprobs', 'invalid_value'],
    [{ seed: 1.5 }, 'seed', 'invalid_type'],
  ])('refuses %j with 400 naming the field, as the SDK reads it, streamed or not', async (extra, param, code) => {
    const body = { ...training, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    await expect(client.chat.completions.create(body)).rejects.toMatchObject({ status: 400, param, code, type: 'invalid_request_error' });
    const asStream = await post(`${base}/chat/completions`, { ...body, stream: true });
    expect(asStream.status).toBe(400);
    expect(asStream.headers.get('content-type')).toMatch(/^application\/json/);
    expect(asStream.json.error).toMatchObject({ param, code });
  });

  it('bounds a reply it does not stream (400, say to stream it); the same request streamed is answered to [DONE]', async () => {
    const big = { model: 'echo', messages: [{ role: 'user', content: 'a '.repeat(2500) }], n: 16, logprobs: true, top_logprobs: 20, seed: 1 };
    const refused = await post(`${base}/chat/completions`, big);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_request',
      message: expect.stringContaining("set 'stream' to true"),
    });
    const chunks = await streamed({ ...big, stream_options: { include_usage: true } });
    const entries = chunks.reduce((n, c) => n + (c.choices[0]?.logprobs?.content.length ?? 0), 0);
    expect(entries).toBe(chunks.at(-1).usage.completion_tokens);
  });
});

describe('a trainable echo route: rollouts that ask for nothing still get what training needs', () => {
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    const config = writeConfig(`
providers:
  echo:
    type: echo
models:
  - name: echo
    provider: echo
  - name: echo-policy
    provider: echo
    trainable: true
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config });
    base = `${running.url}/v1`;
  });
  afterAll(() => running.close());

  it.each([false, true])('n=2 (stream %s) with no training field in the request: logprobs, token ids and prompt ids, counts that add up', async (stream) => {
    const body = { model: 'echo-policy', messages, n: 2, seed: 5, ...(stream ? { stream_options: { include_usage: true } } : {}) };
    const t = await runRollout(base, KEY, body, { stream, matchChoicesBy: 'index' });
    expect(t.model).toBe('echo-policy');
    expect(t.choices.map((c) => [c.index, c.tokenIdsFrom, c.logprobs.length === c.tokenIds.length])).toEqual([
      [0, 'token_ids', true],
      [1, 'token_ids', true],
    ]);
    expect(t.usage!.completion_tokens).toBe(t.choices[0].tokenIds.length + t.choices[1].tokenIds.length);
    expect(t.promptTokenIds).toHaveLength(t.usage!.prompt_tokens);
    // The plain route gives the same rollout when it is asked for every field.
    const asked = await runRollout(
      base,
      KEY,
      { ...body, model: 'echo', logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true },
      { stream, matchChoicesBy: 'index' },
    );
    expect(asked.choices).toEqual(t.choices);
  });
});
