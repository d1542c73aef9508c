import { ApiError } from '../../common/errors/api-error.js';
import { toAnthropicRequest } from './anthropic.mapper.js';

const translate = (body: Record<string, unknown>, stream = false) =>
  toAnthropicRequest(
    { model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...body },
    {
      model: 'claude-sonnet-4-5',
      defaultMaxTokens: 4096,
      stream,
    },
  );
const request = (body: Record<string, unknown>, stream = false) => translate(body, stream).request;

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('did not throw');
}

describe('toAnthropicRequest', () => {
  it('sends the provider-side model, the default max_tokens and user text as blocks, nothing else', () => {
    expect(translate({})).toEqual({
      request: { model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      warnings: [],
    });
  });

  it('asks for a stream only when streaming', () => {
    expect(request({ stream: true }, true).stream).toBe(true);
    expect(request({ stream: true }, false)).not.toHaveProperty('stream');
  });

  it('takes max_completion_tokens over max_tokens over the default', () => {
    expect(request({ max_tokens: 50, max_completion_tokens: 20 }).max_tokens).toBe(20);
    expect(request({ max_tokens: 50 }).max_tokens).toBe(50);
    expect(request({ max_tokens: null, max_completion_tokens: null }).max_tokens).toBe(4096);
  });

  it('joins system and developer messages, strings or text parts, into the top-level system', () => {
    const r = request({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        {
          role: 'developer',
          content: [
            { type: 'text', text: 'Answer in French.' },
            { type: 'text', text: 'No lists.' },
          ],
        },
      ],
    });
    expect(r.system).toBe('Be brief.\n\nAnswer in French.\n\nNo lists.');
    expect(r.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  it('maps text and image parts: data URLs to base64 sources, http(s) URLs to url sources', () => {
    const r = request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    });
    expect(r.messages[0].content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('refuses an image URL that is neither http(s) nor a base64 data URL, naming it', () => {
    const err = thrown(() => request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages[0].content[0].image_url.url');
  });

  it('skips user parts Anthropic cannot take, with a warning', () => {
    const t = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'input_audio', input_audio: {} },
          ],
        },
      ],
    });
    expect(t.request.messages[0].content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(t.warnings).toEqual([expect.stringContaining('messages[0].content[1]')]);
  });

  it('maps assistant text and tool calls to text and tool_use blocks with parsed input', () => {
    const r = request({
      messages: [
        { role: 'user', content: 'weather and time?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
      ],
    });
    expect(r.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
      ],
    });
  });

  it('leaves out the empty text of an assistant message that only calls tools', () => {
    const r = request({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      ],
    });
    expect(r.messages[1].content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
  });

  it.each(['{"city":', '[1,2]', '"text"'])('refuses tool call arguments %j with a 400 naming the field', (args) => {
    const err = thrown(() =>
      request({
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
              { id: 'b', type: 'function', function: { name: 'f', arguments: args } },
            ],
          },
        ],
      }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages[1].tool_calls[1].function.arguments');
    expect(err.message).toContain('messages[1].tool_calls[1].function.arguments');
  });

  it('turns tool messages into one user message of tool_result blocks, merged with a following user turn', () => {
    const r = request({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: '21°C' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: '14:00' }] },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(r.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'a', content: '21°C' },
      { type: 'tool_result', tool_use_id: 'b', content: [{ type: 'text', text: '14:00' }] },
      { type: 'text', text: 'thanks' },
    ]);
  });

  it('merges consecutive messages of one role so the turns alternate', () => {
    const r = request({
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    });
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'c' },
          { type: 'text', text: 'd' },
        ],
      },
    ]);
  });

  it('maps function tools, defaulting the input schema, and skips other tool types with a warning', () => {
    const params = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const t = translate({
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: params } },
        { type: 'function', function: { name: 'get_time' } },
        { type: 'custom', custom: { name: 'x' } },
      ],
    });
    expect(t.request.tools).toEqual([
      { name: 'get_weather', description: 'Weather now', input_schema: params },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(t.request).not.toHaveProperty('tool_choice');
    expect(t.warnings).toEqual([expect.stringContaining('tools[2]')]);
  });

  const tools = [{ type: 'function', function: { name: 'f' } }];
  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
    [
      { type: 'function', function: { name: 'f' } },
      { type: 'tool', name: 'f' },
    ],
  ])('maps tool_choice %j to %j', (choice, expected) => {
    expect(request({ tools, tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it('maps parallel_tool_calls: false to disable_parallel_tool_use', () => {
    expect(request({ tools, parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(request({ tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(request({ tools, tool_choice: 'none', parallel_tool_calls: false }).tool_choice).toEqual({ type: 'none' });
    expect(request({ tools, parallel_tool_calls: true })).not.toHaveProperty('tool_choice');
  });

  it('sends no tool_choice without tools', () => {
    expect(request({ tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
  });

  it('maps stop to stop_sequences', () => {
    expect(request({ stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(request({ stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
    expect(request({ stop: null })).not.toHaveProperty('stop_sequences');
  });

  it('passes temperature, top_p and top_k, clamping temperature to 1 with a warning', () => {
    expect(translate({ temperature: 0.7, top_p: 0.9, top_k: 40 })).toMatchObject({ request: { temperature: 0.7, top_p: 0.9, top_k: 40 }, warnings: [] });
    const hot = translate({ temperature: 1.6 });
    expect(hot.request.temperature).toBe(1);
    expect(hot.warnings).toEqual([expect.stringContaining('temperature 1.6')]);
  });

  it('maps user to metadata.user_id', () => {
    expect(request({ user: 'u-42' }).metadata).toEqual({ user_id: 'u-42' });
  });

  it('ignores settings Anthropic cannot honour with a warning each, and stays quiet about their defaults', () => {
    const t = translate({ n: 2, logprobs: true, presence_penalty: 0.5, frequency_penalty: 1, seed: 7 });
    expect(t.warnings.map((w) => w.split(' ')[0])).toEqual(['n', 'logprobs', 'presence_penalty', 'frequency_penalty', 'seed']);
    for (const field of ['n', 'logprobs', 'presence_penalty', 'frequency_penalty', 'seed']) expect(t.request).not.toHaveProperty(field);
    expect(translate({ n: 1, logprobs: false, presence_penalty: 0, frequency_penalty: 0, response_format: { type: 'text' } }).warnings).toEqual([]);
  });
});
