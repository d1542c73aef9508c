import type { ChatRequestBody, RequestBody } from '../model-backend.js';
import { ALL_TRAINING_FIELDS, trainingBody } from './training-body.js';

const body = (json: Record<string, unknown>): RequestBody => {
  const full = { model: 'm', messages: [], ...json } as ChatRequestBody;
  return { json: full, text: JSON.stringify(full) };
};

describe('trainingBody', () => {
  it('asks for logprobs, token ids and (on streams only) the usage chunk, whatever the client asked', () => {
    const plain = trainingBody(body({ logprobs: false }), ALL_TRAINING_FIELDS);
    expect(plain.body.json).toEqual({ model: 'm', messages: [], logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true });
    expect(plain.body.text).toBeUndefined();
    expect(plain.usageAdded).toBe(false);
    const stream = trainingBody(body({ stream: true, stream_options: { continuous_usage_stats: true } }), ALL_TRAINING_FIELDS);
    expect(stream.body.json.stream_options).toEqual({ continuous_usage_stats: true, include_usage: true });
    expect(stream.usageAdded).toBe(true);
  });

  it("keeps the client's top_logprobs; null (vLLM: no logprobs at all) becomes 0", () => {
    expect(trainingBody(body({ top_logprobs: 5 }), ALL_TRAINING_FIELDS).body.json.top_logprobs).toBe(5);
    expect(trainingBody(body({ top_logprobs: null }), ALL_TRAINING_FIELDS).body.json.top_logprobs).toBe(0);
  });

  it('passes the usage chunk on when the client asked for it, and keeps its own text when nothing changes', () => {
    const asked = body({
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
      top_logprobs: 2,
      return_tokens_as_token_ids: true,
      return_token_ids: true,
    });
    const out = trainingBody(asked, ALL_TRAINING_FIELDS);
    expect(out).toEqual({ body: asked, usageAdded: false });
    expect(out.body.text).toBe(asked.text);
  });

  it('leaves out what a provider is switched off for', () => {
    const off = { logprobs: false, returnTokensAsTokenIds: false, returnTokenIds: true, includeUsage: false };
    const out = trainingBody(body({ stream: true }), off);
    expect(out.body.json).toEqual({ model: 'm', messages: [], stream: true, return_token_ids: true });
    expect(out.usageAdded).toBe(false);
  });
});
