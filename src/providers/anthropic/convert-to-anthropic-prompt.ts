import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatMessage } from '../model-backend.js';
import { thinkingBlocksOf } from './thinking-blocks.js';

/** One content block of an Anthropic message (text, image, tool_use, tool_result, thinking). */
export type AnthropicBlock = Record<string, unknown> & { type: string };

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

/** Anthropic's top-level system: a string, or text blocks when one of them carries `cache_control`. */
export type AnthropicSystem = string | AnthropicBlock[];

/**
 * OpenAI messages as Anthropic's top-level system and alternating user/assistant turns. A
 * `cache_control` on a content part goes on its block, one on a message on the message's last block,
 * both unchanged. Pure; a 400 ApiError for what cannot be translated.
 */
export function convertToAnthropicPrompt(input: ChatMessage[], warnings: string[]): { system?: AnthropicSystem; messages: AnthropicMessageParam[] } {
  const system: AnthropicBlock[] = [];
  const messages: AnthropicMessageParam[] = [];
  // Anthropic needs user and assistant turns to alternate: a run of one role becomes one message.
  const push = (role: 'user' | 'assistant', content: AnthropicBlock[]) => {
    if (content.length === 0) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  input.forEach((m, i) => {
    switch (m?.role) {
      case 'system':
      case 'developer':
        system.push(...withMessageCache(m, textBlocks(m.content, `messages[${i}]`, warnings)));
        break;
      case 'user':
        push('user', withMessageCache(m, userBlocks(m.content, i, warnings)));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(m, i, warnings));
        break;
      case 'tool':
        push('user', withMessageCache(m, [toolResult(m, i, warnings)]));
        break;
      default:
        warnings.push(`messages[${i}] with role '${String(m?.role)}' ignored`);
    }
  });
  if (system.length === 0) return { messages };
  const cached = system.some((b) => b.cache_control !== undefined);
  return { system: cached ? system : system.map((b) => b.text).join('\n\n'), messages };
}

function isPart(part: unknown): part is Record<string, unknown> & { type?: unknown } {
  return !!part && typeof part === 'object';
}

/** A block with the part's `cache_control`, when it has one. */
function cached(block: AnthropicBlock, part: Record<string, unknown>): AnthropicBlock {
  return part.cache_control === undefined || part.cache_control === null ? block : { ...block, cache_control: part.cache_control };
}

/** The message's own `cache_control` on its last block. */
function withMessageCache(m: ChatMessage, blocks: AnthropicBlock[]): AnthropicBlock[] {
  if (m.cache_control === undefined || m.cache_control === null || blocks.length === 0) return blocks;
  blocks[blocks.length - 1] = { ...blocks[blocks.length - 1], cache_control: m.cache_control };
  return blocks;
}

/** A text part's text; one that is not a string is refused (it would reach Anthropic as "[object Object]"). */
function partText(text: unknown, param: string): string {
  if (text === undefined || text === null) return '';
  if (typeof text === 'string') return text;
  throw new ApiError({ status: 400, message: `${param} must be a string.`, code: ERROR_CODES.invalidType, param });
}

/** A content that may only hold text (string, or text and refusal parts), as non-empty text blocks. */
function textBlocks(content: unknown, where: string, warnings: string[], skip?: (part: Record<string, unknown>) => boolean): AnthropicBlock[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const blocks: AnthropicBlock[] = [];
  content.forEach((part, j) => {
    if (isPart(part) && (part.type === 'text' || part.type === 'refusal')) {
      const text = partText(part.text ?? part.refusal, `${where}.content[${j}]`);
      if (text) blocks.push(cached({ type: 'text', text }, part));
    } else if (!(isPart(part) && skip?.(part))) warnings.push(`${where}.content[${j}] ignored (only text is supported here)`);
  });
  return blocks;
}

function userBlocks(content: unknown, i: number, warnings: string[]): AnthropicBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: AnthropicBlock[] = [];
  content.forEach((part, j) => {
    if (!isPart(part)) return;
    if (part.type === 'text') blocks.push(cached({ type: 'text', text: partText(part.text, `messages[${i}].content[${j}].text`) }, part));
    else if (part.type === 'image_url') blocks.push(cached(imageBlock(part.image_url, `messages[${i}].content[${j}].image_url.url`), part));
    else warnings.push(`messages[${i}].content[${j}] of type '${String(part.type)}' ignored (not supported by Anthropic)`);
  });
  return blocks;
}

const DATA_URL = /^data:([^;,]+)(?:;[^;,]+)*;base64,/;

function imageBlock(imageUrl: unknown, param: string): AnthropicBlock {
  const url = typeof imageUrl === 'string' ? imageUrl : (imageUrl as { url?: unknown } | null)?.url;
  if (typeof url === 'string') {
    const data = DATA_URL.exec(url);
    if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: url.slice(data[0].length) } };
    if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  }
  throw new ApiError({ status: 400, message: `${param} must be an http(s) URL or a base64 data URL.`, code: ERROR_CODES.invalidImageUrl, param });
}

const THINKING_PART = (part: Record<string, unknown>) => part.type === 'thinking' || part.type === 'redacted_thinking';

/** Signed thinking first (Anthropic requires it there), then text, then tool calls. */
function assistantBlocks(m: ChatMessage, i: number, warnings: string[]): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = textBlocks(m.content, `messages[${i}]`, warnings, THINKING_PART);
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call, j) => {
    const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
    blocks.push({
      type: 'tool_use',
      id: (call as { id?: unknown }).id,
      name: fn?.name,
      input: toolInput(fn?.arguments, `messages[${i}].tool_calls[${j}].function.arguments`),
    });
  });
  // The message's cache_control goes on its last block, tool calls included (thinking blocks take none).
  return [...thinkingBlocksOf(m), ...withMessageCache(m, blocks)];
}

/** A tool call's JSON arguments as the object Anthropic wants; empty arguments are `{}`. */
function toolInput(args: unknown, param: string): unknown {
  if (args !== null && typeof args === 'object') return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(args);
  } catch {
    input = undefined;
  }
  if (input && typeof input === 'object' && !Array.isArray(input)) return input;
  throw new ApiError({ status: 400, message: `${param} is not a JSON object.`, code: ERROR_CODES.invalidToolArguments, param });
}

function toolResult(m: ChatMessage, i: number, warnings: string[]): AnthropicBlock {
  if (typeof m.content === 'string') return { type: 'tool_result', tool_use_id: m.tool_call_id, content: m.content };
  const parts = textBlocks(m.content, `messages[${i}]`, warnings);
  const content = parts.some((b) => b.cache_control !== undefined) ? parts : [{ type: 'text', text: parts.map((b) => b.text).join('\n\n') }];
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content };
}
