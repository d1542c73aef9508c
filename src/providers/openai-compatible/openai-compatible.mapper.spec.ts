import type { ChatCompletion, ChatCompletionChunk } from '../model-backend.js';
import { ModelSplicer } from './openai-compatible.mapper.js';

describe('ModelSplicer.splice', () => {
  // One splicer per requested name, used over and over as a stream uses its own.
  const splicers = new Map<string, ModelSplicer>();
  const splicer = (to: string) => splicers.get(to) ?? splicers.set(to, new ModelSplicer(to)).get(to)!;
  const splice = (text: string, to = 'asked') => splicer(to).splice(text, (JSON.parse(text) as { model?: unknown }).model);

  it('replaces the top-level model in place, whatever the spacing', () => {
    expect(splice('{"id":"x","model":"up","choices":[]}')).toBe('{"id":"x","model":"asked","choices":[]}');
    expect(splice('{ "model" :\t"up" , "n": 1 }')).toBe('{ "model" :\t"asked" , "n": 1 }');
    expect(splice('{"model":"up"}', 'with "quotes" \\ and ünïcode')).toBe(JSON.stringify({ model: 'with "quotes" \\ and ünïcode' }));
  });

  it('keeps text that already names the requested model', () => {
    const text = '{"model":"asked","x":[1.0, 2e3]}';
    expect(splice(text)).toBe(text);
  });

  it('is not fooled by "model" inside strings', () => {
    const text = JSON.stringify({ choices: [{ delta: { content: 'the "model": "up" said' } }], model: 'up' });
    expect(JSON.parse(splice(text)!)).toEqual({ choices: [{ delta: { content: 'the "model": "up" said' } }], model: 'asked' });
  });

  it('gives up when it cannot be sure', () => {
    // A second "model" token (nested key or a value), an escaped spelling, no model, several lines.
    expect(splice('{"model":"up","meta":{"model":"up"}}')).toBeUndefined();
    expect(splice('{"role":"model","model":"up"}')).toBeUndefined();
    expect(splice('{"model":"u\\u0070"}')).toBeUndefined();
    expect(splice('{"id":"x"}')).toBeUndefined();
    expect(splice('{"model":\n"up"}')).toBeUndefined();
    expect(splicer('asked').splice('{"model":7}', 7)).toBeUndefined();
  });

  it('agrees with parse-then-stringify on whatever it splices', () => {
    const models = ['up', 'ü', 'a"b', 'x\\y', '', 'asked'];
    for (const model of models) {
      for (const text of [
        JSON.stringify({ id: 'c', model, choices: [{ delta: { content: model } }] }),
        JSON.stringify({ model, usage: { model_tokens: 1 } }),
      ]) {
        const out = splice(text);
        if (out !== undefined) expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model: 'asked' });
      }
    }
  });
});

describe('ModelSplicer.completion', () => {
  it("sets the name on the object and gives the spliced text as the frame's", () => {
    const text = '{"model":"up","choices":[]}';
    const frame = new ModelSplicer('asked').completion(JSON.parse(text) as ChatCompletion, text);
    expect(frame.completion.model).toBe('asked');
    expect(frame.text).toBe('{"model":"asked","choices":[]}');
    expect(JSON.stringify(frame.completion)).toBe('{"model":"asked","choices":[]}');
  });
});

describe('ModelSplicer on whole replies and chunks where "model" occurs more than once', () => {
  const vllmChunk = (content: string, token: string) =>
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"acme/agents/bot:step3","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":{"content":[{"token":${JSON.stringify(token)},"logprob":-1e-05,"bytes":[109],"top_logprobs":[]}]},"finish_reason":null}]}`;

  it('still relays the upstream text, only the top-level name changed (a token or a message reading "model", a nested key)', () => {
    const asked = 'wandb-artifact:///acme/agents/bot';
    for (const text of [vllmChunk('model', 'model'), vllmChunk(' the', '"model"'), vllmChunk('model', 'token_id:7')]) {
      const frame = new ModelSplicer(asked).chunk(JSON.parse(text) as ChatCompletionChunk, text);
      // Python's 1e-05 survives: the text is the upstream's, not a re-serialisation.
      expect(frame.text).toBe(text.replace('"model":"acme/agents/bot:step3"', `"model":${JSON.stringify(asked)}`));
    }
    const reply = '{"id":"x","model":"up","choices":[{"message":{"content":"model"}}],"meta":{"model":"up"}}';
    expect(new ModelSplicer('asked').completion(JSON.parse(reply) as ChatCompletion, reply).text).toBe(
      reply.replace('"model":"up","choices"', '"model":"asked","choices"'),
    );
  });

  it('gives no text for what it cannot be sure of: the chunk is then written from the object', () => {
    const twice = '{"model":"up","model":"up"}';
    expect(new ModelSplicer('asked').chunk(JSON.parse(twice) as ChatCompletionChunk, twice).text).toBeUndefined();
    const multiline = '{"model":"up",\n"x":"model"}';
    expect(new ModelSplicer('asked').chunk(JSON.parse(multiline) as ChatCompletionChunk, multiline).text).toBeUndefined();
  });
});
