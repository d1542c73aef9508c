import type { ChatCompletionChunk, ChunkFrame } from '../model-backend.js';
import { EchoBackend } from './echo.backend.js';

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
    { role: 'user', content: [{ type: 'text', text: 'hello big' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'world' }] },
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
});
