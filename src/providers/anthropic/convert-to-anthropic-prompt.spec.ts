import { toAnthropicRequest } from './anthropic.mapper.js';

const translate = (body: Record<string, unknown>) =>
  toAnthropicRequest(
    { model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...body },
    {
      model: 'claude-sonnet-4-5',
      defaultMaxTokens: 4096,
      stream: false,
    },
  );

const EPHEMERAL = { type: 'ephemeral' };
const HOUR = { type: 'ephemeral', ttl: '1h' };
const signed = { type: 'thinking', thinking: 'I should call get_weather.', signature: 'RXVqQVNIYU5RZjBKRVd2' };
const redacted = { type: 'redacted_thinking', data: 'UlczQ0x0TWNXNk8zMFRKek00bzNV' };
const call = { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };

describe('cache_control', () => {
  it('goes unchanged onto the blocks of parts, the last block of a message, tools, tool results and the request', () => {
    const { request } = translate({
      cache_control: EPHEMERAL,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'A long manual.', cache_control: HOUR }] },
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'The contract:' },
            { type: 'text', text: 'A very long contract.', cache_control: EPHEMERAL },
          ],
        },
        { role: 'assistant', content: 'Noted.', cache_control: EPHEMERAL },
        { role: 'user', content: 'When does it renew?', cache_control: HOUR },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '21°C', cache_control: EPHEMERAL },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'long result', cache_control: HOUR }] },
      ],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } }, cache_control: EPHEMERAL },
        { type: 'function', function: { name: 'other', cache_control: HOUR } },
      ],
    });
    expect(request.cache_control).toEqual(EPHEMERAL);
    expect(request.system).toEqual([
      { type: 'text', text: 'A long manual.', cache_control: HOUR },
      { type: 'text', text: 'Be brief.' },
    ]);
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'The contract:' },
          { type: 'text', text: 'A very long contract.', cache_control: EPHEMERAL },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Noted.', cache_control: EPHEMERAL }] },
      { role: 'user', content: [{ type: 'text', text: 'When does it renew?', cache_control: HOUR }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C', cache_control: EPHEMERAL },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'long result', cache_control: HOUR }] },
        ],
      },
    ]);
    expect(request.tools).toEqual([
      { name: 'get_weather', input_schema: { type: 'object', properties: {} }, cache_control: EPHEMERAL },
      { name: 'other', input_schema: { type: 'object', properties: {} }, cache_control: HOUR },
    ]);
  });

  it('keeps the system a string when nothing in it is cached', () => {
    expect(
      translate({
        messages: [
          { role: 'system', content: 'a' },
          { role: 'developer', content: [{ type: 'text', text: 'b' }] },
          { role: 'user', content: 'q' },
        ],
      }).request.system,
    ).toBe('a\n\nb');
  });
});

describe('thinking sent back on an assistant turn', () => {
  const turn = (assistant: Record<string, unknown>) =>
    translate({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [call], ...assistant },
        { role: 'tool', tool_call_id: 'toolu_1', content: '21°C' },
      ],
    }).request.messages[1].content;

  it("goes first, in order, from thinking_blocks (this gateway's and LiteLLM's field), redacted blocks included", () => {
    expect(turn({ reasoning_content: signed.thinking, thinking_blocks: [signed, redacted] })).toEqual([
      signed,
      redacted,
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('is read with either reasoning name beside the signed blocks', () => {
    expect(turn({ reasoning: signed.thinking, thinking_blocks: [signed] })[0]).toEqual(signed);
    expect(turn({ reasoning_content: signed.thinking, thinking_blocks: [signed] })[0]).toEqual(signed);
  });

  it("is read from OpenRouter's reasoning_details: signed text and encrypted data, summaries left out", () => {
    const details = [
      { type: 'reasoning.summary', summary: 'short', id: 'r0', format: 'anthropic-claude-v1', index: 0 },
      { type: 'reasoning.text', text: signed.thinking, signature: signed.signature, id: 'r1', format: 'anthropic-claude-v1', index: 1 },
      { type: 'reasoning.encrypted', data: redacted.data, id: 'r2', format: 'anthropic-claude-v1', index: 2 },
    ];
    expect(turn({ reasoning: signed.thinking, reasoning_details: details }).slice(0, 3)).toEqual([signed, redacted, { type: 'text', text: 'Checking.' }]);
  });

  it('is read from content parts of type thinking and redacted_thinking, without a warning', () => {
    const t = translate({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [signed, redacted, { type: 'text', text: 'Answer.' }] },
      ],
    });
    expect(t.request.messages[1].content).toEqual([signed, redacted, { type: 'text', text: 'Answer.' }]);
    expect(t.warnings).toEqual([]);
  });

  it('is not invented from reasoning text without a signature', () => {
    expect(
      turn({ reasoning_content: 'unsigned', reasoning: 'unsigned', thinking_blocks: [{ type: 'thinking', thinking: 'unsigned', signature: '' }] }).map(
        (b) => b.type,
      ),
    ).toEqual(['text', 'tool_use']);
  });
});

describe('text parts', () => {
  it('refuses a text that is not a string, naming where, instead of sending "[object Object]"', () => {
    expect(() => translate({ messages: [{ role: 'user', content: [{ type: 'text', text: { a: 1 } }] }] })).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0].content[0].text', code: 'invalid_type' }),
    );
    expect(() =>
      translate({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 5 }] },
          { role: 'user', content: 'hi' },
        ],
      }),
    ).toThrow(expect.objectContaining({ status: 400, code: 'invalid_type' }));
  });
});

describe('an assistant message with cache_control', () => {
  it("puts it on the message's last block, a tool call when the message ends with one", () => {
    const { request } = translate({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: 'Looking.', tool_calls: [call], cache_control: EPHEMERAL },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      ],
    });
    const assistant = (request.messages as { role: string; content: Record<string, unknown>[] }[])[1].content;
    expect(assistant.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(assistant[1].cache_control).toEqual(EPHEMERAL);
    expect(assistant[0].cache_control).toBeUndefined();
    const onlyCalls = translate({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [call], cache_control: EPHEMERAL },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      ],
    });
    expect((onlyCalls.request.messages as { content: Record<string, unknown>[] }[])[1].content[0]).toMatchObject({
      type: 'tool_use',
      cache_control: EPHEMERAL,
    });
  });
});
