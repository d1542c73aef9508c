import { FINISH_REASONS, mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

describe('mapAnthropicStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
  ])('maps %j to %j', (reason, finish) => {
    expect(mapAnthropicStopReason(reason)).toBe(finish);
  });

  it("covers exactly Anthropic's seven stop reasons", () => {
    expect(Object.keys(FINISH_REASONS).sort()).toEqual([
      'end_turn',
      'max_tokens',
      'model_context_window_exceeded',
      'pause_turn',
      'refusal',
      'stop_sequence',
      'tool_use',
    ]);
  });

  it('passes a stop reason it does not know on as written, never as a natural stop', () => {
    expect(mapAnthropicStopReason('compaction')).toBe('compaction');
    expect(mapAnthropicStopReason('toString')).toBe('toString');
  });

  it('has no finish reason for a missing stop reason (the caller fails the reply)', () => {
    for (const missing of [null, undefined, '', 3]) expect(mapAnthropicStopReason(missing)).toBeUndefined();
  });

  it("reads the response_format tool's call as a stop, and only that", () => {
    expect(mapAnthropicStopReason('tool_use', true)).toBe('stop');
    expect(mapAnthropicStopReason('max_tokens', true)).toBe('length');
  });
});
