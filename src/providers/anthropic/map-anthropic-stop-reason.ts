/** OpenAI's finish_reason for each of Anthropic's seven stop reasons (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons). */
export const FINISH_REASONS: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // Only server tools (web search …) pause a turn, and this gateway sends none.
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/**
 * OpenAI's finish_reason for an Anthropic stop_reason. One Anthropic adds later is passed on as
 * written (never read as a natural stop); none at all is undefined, which the caller treats as a
 * broken reply. `jsonAnswer`: the tool_use was the response_format tool's, so the answer is content.
 */
export function mapAnthropicStopReason(reason: unknown, jsonAnswer = false): string | undefined {
  if (typeof reason !== 'string' || reason === '') return undefined;
  if (reason === 'tool_use' && jsonAnswer) return 'stop';
  return Object.hasOwn(FINISH_REASONS, reason) ? FINISH_REASONS[reason] : reason;
}
