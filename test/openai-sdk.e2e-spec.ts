import OpenAI from 'openai';
import { KEY, startApp, type RunningApp } from './support/app.js';

describe('the official openai SDK against the service', () => {
  let running: RunningApp;
  let client: OpenAI;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: KEY });
    client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => running.close());

  it('creates a completion', async () => {
    const r = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'ping from sdk' }] });
    expect(r.choices[0].message.content).toBe('ping from sdk');
    expect(r.usage?.completion_tokens).toBe(3);
  });

  it('streams a completion with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'one two three four' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three four');
    expect(usage).toMatchObject({ completion_tokens: 4 });
  });

  it('lists models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('echo');
  });

  it("surfaces errors as the SDK's typed errors with the message", async () => {
    await expect(client.chat.completions.create({ model: 'missing-model', messages: [] })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      message: expect.stringContaining('missing-model'),
    });
    const wrongKey = new OpenAI({ apiKey: 'nope', baseURL: `${running.url}/v1`, maxRetries: 0 });
    await expect(wrongKey.chat.completions.create({ model: 'echo', messages: [] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('reports a 422 with the field at fault in the message the SDK shows', async () => {
    const missing = client.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await expect(missing).rejects.toBeInstanceOf(OpenAI.UnprocessableEntityError);
    await expect(missing).rejects.toMatchObject({ status: 422, param: 'model', code: 'missing', message: '422 body.model: Field required' });
    const wrongType = client.chat.completions.create({ model: 'echo', messages: 'hello' } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await expect(wrongType).rejects.toMatchObject({
      status: 422,
      param: 'messages',
      code: 'list_type',
      message: expect.stringContaining('body.messages: Input should be a valid list'),
    });
    await expect(wrongType).rejects.toMatchObject({ type: 'invalid_request_error', error: { type: 'invalid_request_error', param: 'messages' } });
  });
});
