import OpenAI from 'openai';
import { KEY, startApp, type RunningApp } from './support/app.js';
import { AnthropicMock, message, sendMessage } from './support/anthropic-mock.js';
import { writeConfig } from './support/config-file.js';

describe('an anthropic provider configured in CONFIG_FILE, called with the openai SDK', () => {
  const mock = new AnthropicMock('sk-ant-test');
  let running: RunningApp;
  let client: OpenAI;

  beforeAll(async () => {
    await mock.start();
    const config = writeConfig(`
providers:
  claude:
    type: anthropic
    baseURL: ${mock.baseURL}
    apiKey: \${TEST_ANTHROPIC_KEY}
models:
  - name: smart
    provider: claude
    model: claude-sonnet-4-5
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config, TEST_ANTHROPIC_KEY: 'sk-ant-test' });
    client = new OpenAI({ apiKey: KEY, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await mock.stop();
    await running.close();
  });

  it('translates a request with a system message and a tool call round trip', async () => {
    mock.reset((call, res) =>
      sendMessage(res, message(call.json.model, [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }], 'tool_use')),
    );
    const r = await client.chat.completions.create({
      model: 'smart',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    expect(r.model).toBe('smart');
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    expect(r.choices[0].message.tool_calls?.[0]).toMatchObject({
      id: 'toolu_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });
    const sent = mock.calls[0];
    expect(sent.json).toMatchObject({ model: 'claude-sonnet-4-5', system: 'Be brief.', max_tokens: 4096, messages: [{ role: 'user' }] });
    expect(sent.json.tools[0]).toMatchObject({ name: 'get_weather', input_schema: { type: 'object' } });
    expect(sent.headers['x-api-key']).toBe('sk-ant-test');
    expect(sent.headers.authorization).toBeUndefined();
  });
});
