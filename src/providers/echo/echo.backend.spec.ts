import { ApiError } from '../../common/errors/api-error.js';
import type { ChatCompletionChunk, ChunkFrame } from '../model-backend.js';
import { REPLY_BUDGET_CHARS } from './echo-reply.mapper.js';
import { ChoiceSampler, promptTokenIds, tokenId } from './echo-sampling.mapper.js';
import { EchoBackend, MAX_STREAMED_PROMPT_IDS } from './echo.backend.js';
import { tokens } from './echo.mapper.js';

const request = (body: Record<string, unknown>) => ({
  body: { json: { model: 'echo', messages: [], ...body } as never },
  requestedModel: 'echo',
  model: 'echo',
});
const signal = new AbortController().signal;

async function collect(it: AsyncIterable<ChunkFrame>) {
  const out: ChatCompletionChunk[] = [];
  for await (const { chunk } of it) out.push(chunk);
  return out;
}

describe('EchoBackend', () => {
  const echo = new EchoBackend();
  const messages = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'ok' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'hello big' },
        { type: 'image_url', image_url: { url: 'x' } },
        { type: 'text', text: 'world' },
      ],
    },
  ];

  it('answers with the last user message text and counts words as tokens', async () => {
    const { completion: r } = await echo.complete(request({ messages }), signal);
    expect(r.choices[0].message.content).toBe('hello big world');
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage).toEqual({ prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 });
  });

  it('is deterministic apart from id and time', async () => {
    const { completion: a } = await echo.complete(request({ messages }), signal);
    const { completion: b } = await echo.complete(request({ messages }), signal);
    expect({ ...a, id: 0, created: 0 }).toEqual({ ...b, id: 0, created: 0 });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const { completion: r } = await echo.complete(request({ messages, max_tokens: 2 }), signal);
    expect(r.choices[0].message.content).toBe('hello big');
    expect(r.choices[0].finish_reason).toBe('length');
  });

  it('streams word by word under one id, role first, usage last when asked', async () => {
    const chunks = await collect(echo.stream(request({ messages, stream_options: { include_usage: true } }), signal));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(['hello', ' big', ' world']);
    expect(chunks[4].choices[0].finish_reason).toBe('stop');
    expect(chunks[5]).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('stops streaming when aborted', async () => {
    const controller = new AbortController();
    const it = echo.stream(request({ messages }), controller.signal)[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    await expect(it.next()).rejects.toBeDefined();
  });

  describe('as a training double', () => {
    const rollout = { messages, n: 3, seed: 11, logprobs: true, top_logprobs: 2, return_token_ids: true };
    const words = [...tokens('hello big world')];

    /** A stream's choices put together by index, as a correct reader does. */
    async function gathered(body: Record<string, unknown>) {
      const chunks = await collect(echo.stream(request({ ...body, stream_options: { include_usage: true } }), signal));
      const choices = new Map<number, { content: string; finish_reason: unknown; logprobs: unknown[]; token_ids: number[] }>();
      for (const chunk of chunks) {
        for (const c of chunk.choices as any[]) {
          const acc = choices.get(c.index) ?? choices.set(c.index, { content: '', finish_reason: null, logprobs: [], token_ids: [] }).get(c.index)!;
          acc.content += c.delta.content ?? '';
          acc.logprobs.push(...(c.logprobs?.content ?? []));
          acc.token_ids.push(...(c.token_ids ?? []));
          if (c.finish_reason) acc.finish_reason = c.finish_reason;
        }
      }
      return { chunks, choices: [...choices.entries()].sort(([a], [b]) => a - b).map(([, c]) => c) };
    }

    it('makes n choices: choice 0 the whole echo, the others seeded prefixes of it, each with its logprobs and token ids', async () => {
      const { completion: r } = await echo.complete(request(rollout), signal);
      expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
      expect(r.choices[0].message.content).toBe('hello big world');
      for (const c of r.choices as any[]) {
        const count = new ChoiceSampler(11, c.index).length(3);
        expect(c.message.content).toBe(words.slice(0, count).join(''));
        expect(c.finish_reason).toBe('stop');
        expect(c.token_ids).toEqual(words.slice(0, count).map(tokenId));
        expect(c.logprobs).toEqual({ content: words.slice(0, count).map((w, i) => new ChoiceSampler(11, c.index).logprob(w, i, 2, false)), refusal: null });
      }
      expect(r.prompt_token_ids).toEqual(promptTokenIds(messages));
      const produced = r.choices.reduce((n, c: any) => n + c.token_ids.length, 0);
      expect(r.usage).toEqual({ prompt_tokens: 8, completion_tokens: produced, total_tokens: 8 + produced });
    });

    it('streams the same choices as it answers them whole, one choice a chunk, role chunks with prompt_token_ids first, usage summed last', async () => {
      const { completion: whole } = await echo.complete(request(rollout), signal);
      const { chunks, choices } = await gathered(rollout);
      expect(choices).toEqual(
        whole.choices.map((c: any) => ({ content: c.message.content, finish_reason: c.finish_reason, logprobs: c.logprobs.content, token_ids: c.token_ids })),
      );
      expect(chunks.slice(0, 3).map((c) => [c.choices[0].index, c.choices[0].delta, c.prompt_token_ids])).toEqual(
        [0, 1, 2].map((i) => [i, { role: 'assistant', content: '' }, whole.prompt_token_ids]),
      );
      expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
      expect(chunks.slice(3).some((c) => 'prompt_token_ids' in c)).toBe(false);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
    });

    it('stops every choice at max_tokens with finish_reason length, and counts only what it said', async () => {
      const { completion: r } = await echo.complete(request({ ...rollout, n: 16, max_tokens: 1 }), signal);
      for (const c of r.choices as any[]) {
        expect(c.message.content).toBe('hello');
        expect(c.token_ids).toHaveLength(1);
        expect(c.finish_reason).toBe(new ChoiceSampler(11, c.index).length(3) > 1 ? 'length' : 'stop');
      }
      expect(r.usage!.completion_tokens).toBe(16);
    });

    it('writes token_id:<id> tokens when asked, and logprobs without token ids or token ids without logprobs', async () => {
      const { completion: named } = await echo.complete(request({ messages, logprobs: true, return_tokens_as_token_ids: true }), signal);
      expect((named.choices[0].logprobs as any).content.map((e: any) => e.token)).toEqual(words.map((w) => `token_id:${tokenId(w)}`));
      expect(named.choices[0]).not.toHaveProperty('token_ids');
      expect(named).not.toHaveProperty('prompt_token_ids');
      const { completion: ids } = await echo.complete(request({ messages, return_token_ids: true }), signal);
      expect(ids.choices[0]).toMatchObject({ logprobs: null, token_ids: words.map(tokenId) });
      // The last chunk is the usage the backend always reports (choices: []).
      const streamed = (await collect(echo.stream(request({ messages, return_token_ids: true }), signal))).slice(0, -1);
      expect(streamed.map((c) => (c.choices[0] as any).token_ids)).toEqual([undefined, ...words.map((w) => [tokenId(w)]), []]);
      expect(streamed.every((c) => c.choices[0].logprobs === null)).toBe(true);
    });

    it('bounds the prompt ids a stream writes once per choice: n × prompt ids over the limit is a 400 before the first chunk', async () => {
      const big = 'a '.repeat(MAX_STREAMED_PROMPT_IDS / 4 + 1);
      const over = echo.stream(request({ messages: [{ role: 'user', content: big }], n: 4, return_token_ids: true }), signal)[Symbol.asyncIterator]();
      await expect(over.next()).rejects.toMatchObject({ status: 400, param: 'n' });
      const under = echo.stream(request({ messages: [{ role: 'user', content: big }], n: 3, return_token_ids: true }), signal)[Symbol.asyncIterator]();
      expect((await under.next()).value.chunk.prompt_token_ids).toHaveLength(MAX_STREAMED_PROMPT_IDS / 4 + 1);
      await under.return?.();
    });

    it('refuses a request it cannot answer with 400 before the first chunk', async () => {
      await expect(echo.complete(request({ messages, n: 17 }), signal)).rejects.toMatchObject({ status: 400, param: 'n' });
      const it = echo.stream(request({ messages, logprobs: true, top_logprobs: 21 }), signal)[Symbol.asyncIterator]();
      await expect(it.next()).rejects.toMatchObject({ status: 400, param: 'top_logprobs' });
    });

    it(`builds at most ${REPLY_BUDGET_CHARS / 2 ** 20} MiB of a reply it does not stream; the same request streamed is answered`, async () => {
      // Top-20 logprobs take about 1.8 KB a token; 16 choices of 4,000 words (choice 0 whole, the others 2,000 on average) are over the budget, of 1,000 words under it.
      const big = (words: number) => request({ messages: [{ role: 'user', content: 'a '.repeat(words) }], n: 16, logprobs: true, top_logprobs: 20, seed: 1 });
      const refused = await echo.complete(big(4000), signal).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringContaining("set 'stream' to true") });
      const { completion: under } = await echo.complete(big(1000), signal);
      expect(under.choices).toHaveLength(16);
      expect(JSON.stringify(under).length).toBeLessThan(REPLY_BUDGET_CHARS);
      let chunks = 0;
      for await (const frame of echo.stream(big(4000), signal)) if (frame.chunk.choices[0]?.logprobs) chunks++;
      expect(chunks).toBe(
        (await echo.complete(request({ ...(big(4000).body.json as object), return_token_ids: true, logprobs: false, top_logprobs: 0 }), signal)).completion
          .usage!.completion_tokens,
      );
    });

    it('counts the text too: one 9 MB word with its logprobs is over the budget', async () => {
      const huge = request({ messages: [{ role: 'user', content: 'x'.repeat(9 * 2 ** 20) }], logprobs: true });
      await expect(echo.complete(huge, signal)).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    });
  });
});
