import { ApiError } from '../../common/errors/api-error.js';
import { ADAPTIVE_EFFORT, THINKING_BUDGET_TOKENS } from './anthropic-thinking.mapper.js';
import { toAnthropicRequest } from './anthropic.mapper.js';

const translate = (body: Record<string, unknown>, model = 'claude-sonnet-4-5') =>
  toAnthropicRequest(
    { model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...body },
    {
      model,
      defaultMaxTokens: 4096,
      stream: false,
    },
  );

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const toolTurn = (assistant: Record<string, unknown>) => [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    ...assistant,
  },
  { role: 'tool', tool_call_id: 'toolu_1', content: '21°C' },
];
const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('reasoning_effort and thinking', () => {
  it('documents its tables: budgets double from 1024 (LiteLLM), efforts map one to one but minimal', () => {
    expect(THINKING_BUDGET_TOKENS).toEqual({ minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 8192, max: 16384 });
    expect(ADAPTIVE_EFFORT).toEqual({ minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'max' });
  });

  it.each(Object.entries(THINKING_BUDGET_TOKENS))('manual models: %s is a budget of %i tokens on top of max_tokens', (effort, budget) => {
    const { request } = translate({ reasoning_effort: effort, max_completion_tokens: 500 });
    expect(request.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
    expect(request.max_tokens).toBe(500 + budget);
    expect(request).not.toHaveProperty('output_config');
  });

  it.each([
    ['claude-opus-4-8', 'minimal', 'low'],
    ['claude-opus-4-8', 'xhigh', 'xhigh'],
    ['claude-opus-4-6', 'xhigh', 'max'],
    ['claude-sonnet-4-6', 'medium', 'medium'],
    ['claude-opus-4-8', 'max', 'max'],
  ])('adaptive models (%s): %s is effort %s, max_tokens unchanged', (model, effort, sent) => {
    const { request } = translate({ reasoning_effort: effort }, model);
    expect(request.thinking).toEqual({ type: 'adaptive', display: 'summarized' });
    expect(request.output_config).toEqual({ effort: sent });
    expect(request.max_tokens).toBe(4096);
  });

  it("none turns thinking off; absent leaves the model's default", () => {
    expect(translate({ reasoning_effort: 'none' }).request.thinking).toEqual({ type: 'disabled' });
    expect(translate({ reasoning_effort: null }).request).not.toHaveProperty('thinking');
    expect(translate({}).request).not.toHaveProperty('thinking');
  });

  it('a model without extended thinking gets none, with a warning', () => {
    const t = translate({ reasoning_effort: 'high' }, 'claude-3-5-haiku-20241022');
    expect(t.request).not.toHaveProperty('thinking');
    expect(t.warnings).toEqual([expect.stringContaining('reasoning_effort ignored')]);
  });

  it("passes thinking through as Anthropic writes it, with reasoning_effort as an adaptive one's effort", () => {
    const { request } = translate({ thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 3000, reasoning_effort: 'high' });
    expect(request.thinking).toEqual({ type: 'enabled', budget_tokens: 2000 });
    expect(request.max_tokens).toBe(3000);
    const adaptive = translate({ thinking: { type: 'adaptive', display: 'omitted' }, reasoning_effort: 'low' }, 'claude-opus-4-8').request;
    expect(adaptive).toMatchObject({ thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'low' } });
  });

  it.each([
    [{ reasoning_effort: 'extreme' }, 'reasoning_effort'],
    [{ reasoning_effort: 'toString' }, 'reasoning_effort'],
    [{ reasoning_effort: 3 }, 'reasoning_effort'],
    [{ thinking: true }, 'thinking'],
    [{ thinking: { type: 'on' } }, 'thinking'],
  ])('refuses %j with a 400 naming %s', (body, param) => {
    expect(refusal(() => translate(body))).toMatchObject({ status: 400, param });
  });

  it('leaves out temperature and top_k, and top_p below 0.95, while thinking, with warnings', () => {
    const t = translate({ reasoning_effort: 'low', temperature: 0.2, top_k: 5, top_p: 0.5 });
    for (const field of ['temperature', 'top_k', 'top_p']) expect(t.request).not.toHaveProperty(field);
    expect(t.warnings).toHaveLength(3);
    expect(translate({ reasoning_effort: 'low', top_p: 0.97 }).request.top_p).toBe(0.97);
  });

  it('refuses a forced tool while thinking was asked for, naming tool_choice', () => {
    expect(refusal(() => translate({ reasoning_effort: 'low', tools, tool_choice: 'required' }))).toMatchObject({ status: 400, param: 'tool_choice' });
    expect(translate({ reasoning_effort: 'low', tools, tool_choice: 'auto' }).request.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });

  it('turns off the default thinking of a model that thinks unless told, when a tool is forced', () => {
    expect(translate({ tools, tool_choice: 'required' }, 'claude-sonnet-5').request.thinking).toEqual({ type: 'disabled' });
    expect(translate({ tools }, 'claude-sonnet-5').request).not.toHaveProperty('thinking');
  });

  it('sends thinking when the tool turn being answered carries its signed thinking back', () => {
    const blocks = [{ type: 'thinking', thinking: 'Use the tool.', signature: 'c2lnbmF0dXJl' }];
    const t = translate({ reasoning_effort: 'low', tools, messages: toolTurn({ thinking_blocks: blocks }) });
    expect(t.request.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(t.request.messages[1].content[0]).toEqual(blocks[0]);
    expect(t.warnings).toEqual([]);
  });

  it('leaves thinking off, with a warning, when the tool turn being answered lost its signed thinking (text alone cannot be sent back)', () => {
    const t = translate({ reasoning_effort: 'low', tools, messages: toolTurn({ reasoning_content: 'Use the tool.' }) });
    expect(t.request).not.toHaveProperty('thinking');
    expect(t.request.max_tokens).toBe(4096);
    expect(t.warnings).toEqual([expect.stringContaining('thinking left off')]);
    expect(t.request.messages[1].content.map((b) => b.type)).toEqual(['tool_use']);
  });
});
