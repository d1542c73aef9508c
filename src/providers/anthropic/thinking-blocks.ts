import type { ChatMessage } from '../model-backend.js';

/** A thinking block as Anthropic signs it, or a redacted one: what an assistant turn must carry back, unchanged and first. */
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

const str = (v: unknown): v is string => typeof v === 'string';

/** A block from `thinking_blocks` or a content part (LiteLLM's form, Anthropic's own objects). */
function fromAnthropicForm(block: unknown): ThinkingBlock | undefined {
  const b = block as { type?: unknown; thinking?: unknown; signature?: unknown; data?: unknown } | null;
  if (b?.type === 'thinking' && str(b.thinking) && str(b.signature) && b.signature) return { type: 'thinking', thinking: b.thinking, signature: b.signature };
  if (b?.type === 'redacted_thinking' && str(b.data) && b.data) return { type: 'redacted_thinking', data: b.data };
  return undefined;
}

/** A block from OpenRouter's `reasoning_details`: signed text, or encrypted (redacted) data; summaries carry no signature. */
function fromReasoningDetail(detail: unknown): ThinkingBlock | undefined {
  const d = detail as { type?: unknown; text?: unknown; signature?: unknown; data?: unknown } | null;
  if (d?.type === 'reasoning.text' && str(d.text) && str(d.signature) && d.signature) return { type: 'thinking', thinking: d.text, signature: d.signature };
  if (d?.type === 'reasoning.encrypted' && str(d.data) && d.data) return { type: 'redacted_thinking', data: d.data };
  return undefined;
}

/**
 * The signed thinking an assistant message carries back, in order: `thinking_blocks` (this
 * gateway's replies, and LiteLLM's), else OpenRouter's `reasoning_details`, else content parts of
 * type `thinking` / `redacted_thinking`. Reasoning text without a signature (`reasoning_content`,
 * `reasoning` alone) cannot be sent back: Anthropic refuses a thinking block it did not sign.
 */
export function thinkingBlocksOf(message: ChatMessage): ThinkingBlock[] {
  const pick = (list: unknown, read: (v: unknown) => ThinkingBlock | undefined) =>
    Array.isArray(list) ? list.map(read).filter((b): b is ThinkingBlock => b !== undefined) : [];
  const blocks = pick(message.thinking_blocks, fromAnthropicForm);
  if (blocks.length > 0) return blocks;
  const details = pick(message.reasoning_details, fromReasoningDetail);
  if (details.length > 0) return details;
  return pick(message.content, fromAnthropicForm);
}

/** The reply side: a thinking or redacted block of Anthropic's as a `thinking_blocks` entry. */
export function thinkingBlockOf(block: { type?: unknown; thinking?: unknown; signature?: unknown; data?: unknown }): ThinkingBlock | undefined {
  if (block.type === 'thinking')
    return { type: 'thinking', thinking: str(block.thinking) ? block.thinking : '', signature: str(block.signature) ? block.signature : '' };
  if (block.type === 'redacted_thinking') return { type: 'redacted_thinking', data: str(block.data) ? block.data : '' };
  return undefined;
}
