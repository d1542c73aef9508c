import { JSON_TEXT } from '../model-backend.js';
import { spliceModel, withRequestedModel } from './openai-compatible.mapper.js';

describe('spliceModel', () => {
  const splice = (text: string, to = 'asked') => spliceModel(text, (JSON.parse(text) as { model?: unknown }).model, to);

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
    expect(spliceModel('{"model":7}', 7, 'asked')).toBeUndefined();
  });

  it('agrees with parse-then-stringify on whatever it splices', () => {
    const models = ['up', 'ü', 'a"b', 'x\\y', '', 'asked'];
    for (const model of models) {
      for (const text of [JSON.stringify({ id: 'c', model, choices: [{ delta: { content: model } }] }), JSON.stringify({ model, usage: { model_tokens: 1 } })]) {
        const out = splice(text);
        if (out !== undefined) expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model: 'asked' });
      }
    }
  });
});

describe('withRequestedModel', () => {
  it('sets the name on the object and attaches the spliced text', () => {
    const text = '{"model":"up","choices":[]}';
    const reply = withRequestedModel(JSON.parse(text) as { model?: unknown; [JSON_TEXT]?: string }, text, 'asked');
    expect(reply.model).toBe('asked');
    expect(reply[JSON_TEXT]).toBe('{"model":"asked","choices":[]}');
    expect(JSON.stringify(reply)).toBe('{"model":"asked","choices":[]}');
  });
});
