import { claudeCapabilities } from './anthropic-models.js';

describe('claudeCapabilities', () => {
  it.each([
    ['claude-3-5-haiku-20241022', false, 'none'],
    ['claude-3-7-sonnet-20250219', false, 'manual'],
    ['claude-sonnet-4-20250514', false, 'manual'],
    ['claude-opus-4-0', false, 'manual'],
    ['claude-opus-4-1-20250805', true, 'manual'],
    ['claude-sonnet-4-5-20250929', true, 'manual'],
    ['claude-haiku-4-5', true, 'manual'],
    ['claude-opus-4-5-20251101', true, 'manual'],
    ['claude-sonnet-4-6', true, 'adaptive'],
    ['claude-opus-4-6', true, 'adaptive'],
    ['claude-opus-4-7', true, 'adaptive'],
    ['claude-opus-4-8', true, 'adaptive'],
    ['claude-sonnet-5', true, 'adaptive'],
    ['claude-fable-5', true, 'adaptive'],
    ['claude-mythos-preview', true, 'adaptive'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', true, 'manual'],
    ['anthropic/claude-sonnet-4', false, 'manual'],
    ['my-deployment', true, 'adaptive'],
  ])('%s: structured outputs %s, thinking %s', (model, structuredOutputs, thinking) => {
    expect(claudeCapabilities(model)).toMatchObject({ structuredOutputs, thinking });
  });

  it('knows which models take effort xhigh and which think unless told not to', () => {
    expect(claudeCapabilities('claude-opus-4-6').xhighEffort).toBe(false);
    expect(claudeCapabilities('claude-opus-4-8').xhighEffort).toBe(true);
    expect(claudeCapabilities('claude-sonnet-5').thinksByDefault).toBe(true);
    expect(claudeCapabilities('claude-opus-5').thinksByDefault).toBe(false);
    expect(claudeCapabilities('claude-sonnet-4-6').thinksByDefault).toBe(false);
  });
});
