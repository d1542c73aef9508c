import type { ChatRequestBody } from '../model-backend.js';
import { type SampledToken, type TokenAsk, finishChunk, logprobsContent, roleChunk, tokenAsk, tokenChunk, tokenCompletion } from './llama-cpp.tokens.mapper.js';

const body = (extra: Record<string, unknown>): ChatRequestBody => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const head = { id: 'chatcmpl-1', created: 1, model: 'tiny' };
const ask = (extra: Partial<TokenAsk> = {}): TokenAsk => ({ n: 1, logprobs: true, topLogprobs: 1, tokenIds: true, asTokenIds: false, ...extra });
const token = (id: number, piece: string, logprob: number, top: SampledToken['top'] = []): SampledToken => ({ id, piece, logprob, top });

describe('tokenAsk', () => {
  it('leaves to the ordinary path a request that asks nothing of the token path', () => {
    for (const extra of [
      {},
      { n: 1 },
      { n: null },
      { logprobs: false, top_logprobs: 0 },
      { logprobs: null, top_logprobs: null },
      { return_token_ids: false },
      { return_tokens_as_token_ids: true },
      { tools: [{}] },
    ]) {
      expect(tokenAsk(body(extra))).toBeUndefined();
    }
  });

  it('reads logprobs, top_logprobs, token ids and n; top_logprobs null still gives logprobs', () => {
    expect(tokenAsk(body({ logprobs: true }))).toEqual({ n: 1, logprobs: true, topLogprobs: 0, tokenIds: false, asTokenIds: false });
    expect(tokenAsk(body({ logprobs: true, top_logprobs: null }))).toMatchObject({ logprobs: true, topLogprobs: 0 });
    expect(tokenAsk(body({ logprobs: true, top_logprobs: 20, return_tokens_as_token_ids: true }))).toMatchObject({ topLogprobs: 20, asTokenIds: true });
    expect(tokenAsk(body({ return_token_ids: true, tools: [] }))).toEqual({ n: 1, logprobs: false, topLogprobs: 0, tokenIds: true, asTokenIds: false });
    expect(tokenAsk(body({ n: 3 }))).toEqual({ n: 3, logprobs: false, topLogprobs: 0, tokenIds: false, asTokenIds: false });
  });

  it('refuses with a 400 naming the field what it cannot honour', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ logprobs: true, tools: [{ type: 'function' }] }, 'tools'],
      [{ return_token_ids: true, functions: [{ name: 'f' }] }, 'functions'],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
      [{ logprobs: true, top_logprobs: -1 }, 'top_logprobs'],
      [{ logprobs: true, top_logprobs: 1.5 }, 'top_logprobs'],
      [{ top_logprobs: 1 }, 'top_logprobs'],
      [{ logprobs: 1 }, 'logprobs'],
      [{ return_token_ids: 'yes' }, 'return_token_ids'],
      [{ return_tokens_as_token_ids: 0 }, 'return_tokens_as_token_ids'],
      [{ n: 0 }, 'n'],
      [{ n: 129 }, 'n'],
      [{ n: '2' }, 'n'],
    ];
    for (const [extra, param] of cases) {
      let thrown: unknown;
      try {
        tokenAsk(body(extra));
      } catch (e) {
        thrown = e;
      }
      expect({ extra, thrown }).toEqual({ extra, thrown: expect.objectContaining({ status: 400, code: 'invalid_request', param }) });
    }
  });
});

describe('token path replies', () => {
  const tokens = [
    token(7, ' hi', -0.5, [
      { id: 7, piece: ' hi', logprob: -0.5 },
      { id: 9, piece: 'é', logprob: -1 },
    ]),
    token(2, '</s>', -0.25),
  ];

  it('writes logprobs as vLLM does: the entry bytes are its text, a runner-up’s those of its token string', () => {
    expect(logprobsContent(tokens, false)).toEqual([
      {
        token: ' hi',
        logprob: -0.5,
        bytes: [32, 104, 105],
        top_logprobs: [
          { token: ' hi', logprob: -0.5, bytes: [32, 104, 105] },
          { token: 'é', logprob: -1, bytes: [195, 169] },
        ],
      },
      { token: '</s>', logprob: -0.25, bytes: [60, 47, 115, 62], top_logprobs: [] },
    ]);
    const asIds = logprobsContent(tokens, true);
    expect(asIds[0]).toEqual({
      token: 'token_id:7',
      logprob: -0.5,
      bytes: [32, 104, 105],
      top_logprobs: [
        { token: 'token_id:7', logprob: -0.5, bytes: [...Buffer.from('token_id:7')] },
        { token: 'token_id:9', logprob: -1, bytes: [...Buffer.from('token_id:9')] },
      ],
    });
  });

  it('a reply: token_ids per choice and prompt_token_ids last when asked, logprobs null when not', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
    const choice = { text: ' hi', tokens, finishReason: 'stop' as const };
    const asked = tokenCompletion(head, [choice], ask(), [1, 2, 3], usage);
    expect(Object.keys(asked)).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage', 'prompt_token_ids']);
    expect(asked.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: ' hi', refusal: null },
      logprobs: { content: logprobsContent(tokens, false), refusal: null },
      finish_reason: 'stop',
      token_ids: [7, 2],
    });
    expect(asked.prompt_token_ids).toEqual([1, 2, 3]);
    const plain = tokenCompletion(head, [choice, { ...choice, text: 'x' }], ask({ n: 2, logprobs: false, tokenIds: false }), [1, 2, 3], usage);
    expect(plain).not.toHaveProperty('prompt_token_ids');
    expect(plain.choices.map((c) => [c.index, c.logprobs, 'token_ids' in c])).toEqual([
      [0, null, false],
      [1, null, false],
    ]);
  });

  it('chunks: a role chunk with the prompt ids, a chunk a token, and a finish chunk carrying held-back text', () => {
    expect(roleChunk(head, 1, ask(), [1, 2])).toEqual({
      ...head,
      object: 'chat.completion.chunk',
      choices: [{ index: 1, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      prompt_token_ids: [1, 2],
    });
    expect(tokenChunk(head, 1, '', tokens[0], ask()).choices).toEqual([
      { index: 1, delta: { content: '' }, logprobs: { content: logprobsContent([tokens[0]], false), refusal: null }, finish_reason: null, token_ids: [7] },
    ]);
    expect(tokenChunk(head, 0, ' hi', tokens[0], ask({ logprobs: false, tokenIds: false })).choices).toEqual([
      { index: 0, delta: { content: ' hi' }, logprobs: null, finish_reason: null },
    ]);
    expect(finishChunk(head, 0, '<|im', 'length').choices).toEqual([{ index: 0, delta: { content: '<|im' }, logprobs: null, finish_reason: 'length' }]);
    expect(finishChunk(head, 0, '', 'stop').choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  });
});
