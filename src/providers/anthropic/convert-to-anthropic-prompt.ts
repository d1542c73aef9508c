import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatMessage } from '../model-backend.js';
import { messageText } from '../openai-format.js';

/** One content block of an Anthropic message (text, image, tool_use, tool_result). */
export type AnthropicBlock = Record<string, unknown> & { type: string };

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

/** OpenAI messages as Anthropic's top-level system text and alternating user/assistant turns. Pure; a 400 ApiError for what cannot be translated. */
export function convertToAnthropicPrompt(input: ChatMessage[], warnings: string[]): { system: string[]; messages: AnthropicMessageParam[] } {
  const system: string[] = [];
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
        system.push(textOf(m.content, `messages[${i}]`, warnings));
        break;
      case 'user':
        push('user', userBlocks(m.content, i, warnings));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(m, i, warnings));
        break;
      case 'tool':
        push('user', [toolResult(m, i, warnings)]);
        break;
      default:
        warnings.push(`messages[${i}] with role '${String(m?.role)}' ignored`);
    }
  });
  return { system, messages };
}

function isPart(part: unknown): part is Record<string, unknown> & { type?: unknown } {
  return !!part && typeof part === 'object';
}

/** A content that may only hold text (string, or text and refusal parts), as one string. */
function textOf(content: unknown, where: string, warnings: string[]): string {
  return messageText(content, '\n\n', (part, j) => {
    if (isPart(part) && (part.type === 'text' || part.type === 'refusal')) return String(part.text ?? part.refusal ?? '');
    warnings.push(`${where}.content[${j}] ignored (only text is supported here)`);
    return undefined;
  });
}

function userBlocks(content: unknown, i: number, warnings: string[]): AnthropicBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: AnthropicBlock[] = [];
  content.forEach((part, j) => {
    if (!isPart(part)) return;
    if (part.type === 'text') blocks.push({ type: 'text', text: String(part.text ?? '') });
    else if (part.type === 'image_url') blocks.push(imageBlock(part.image_url, `messages[${i}].content[${j}].image_url.url`));
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

function assistantBlocks(m: ChatMessage, i: number, warnings: string[]): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  const text = textOf(m.content, `messages[${i}]`, warnings);
  if (text) blocks.push({ type: 'text', text });
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call, j) => {
    const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
    blocks.push({ type: 'tool_use', id: (call as { id?: unknown }).id, name: fn?.name, input: toolInput(fn?.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) });
  });
  return blocks;
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
  const content = typeof m.content === 'string' ? m.content : [{ type: 'text', text: textOf(m.content, `messages[${i}]`, warnings) }];
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content };
}
