/** OpenAI's finish_reason for an Anthropic stop_reason; an unknown or missing reason reads as a natural stop. */
export function mapAnthropicStopReason(reason: unknown): 'stop' | 'length' | 'tool_calls' | 'content_filter' {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
