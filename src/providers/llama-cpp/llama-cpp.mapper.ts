import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatMessage, ChatRequestBody, CompletionUsage } from '../model-backend.js';
import { messageText } from '../openai-format.js';

/** What a request asks of the model, in node-llama-cpp's terms. */
export interface LlamaGeneration {
  history: ChatHistoryItem[];
  temperature: number;
  topP: number;
  topK?: number;
  seed?: number;
  maxTokens?: number;
  stop: string[];
  frequencyPenalty?: number;
  presencePenalty?: number;
  format: ResponseFormat;
  /** Settings the backend cannot honour, to be logged and ignored. */
  ignored: string[];
}

export type ResponseFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: object; key: string };

/** node-llama-cpp's reasons for stopping, as reported in `metadata.stopReason`. */
export type LlamaStopReason = 'eogToken' | 'stopGenerationTrigger' | 'functionCalls' | 'maxTokens' | 'abort' | 'customStopTrigger';

/** OpenAI settings a local model cannot honour; other unknown fields pass silently, as the open contract wants. */
const UNSUPPORTED = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'logit_bias',
  'audio',
  'modalities',
  'prediction',
  'reasoning_effort',
  'web_search_options',
];

/** The text of a message's content, text parts one per line; other parts are noted in `ignored`, once per type. */
function contentText(content: unknown, ignored: string[]): string {
  return messageText(content, '\n', (part) => {
    const type = (part as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !ignored.includes(`content part ${type}`)) ignored.push(`content part ${type}`);
    return undefined;
  });
}

/** OpenAI messages as a node-llama-cpp chat history, ending with the empty model turn to generate. */
export function toChatHistory(messages: ChatMessage[], ignored: string[] = []): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    const text = contentText(m?.content, ignored);
    if (m?.role === 'system' || m?.role === 'developer') history.push({ type: 'system', text });
    else if (m?.role === 'user') history.push({ type: 'user', text });
    else if (m?.role === 'assistant') history.push({ type: 'model', response: text ? [text] : [] });
    else if (!ignored.includes(`role ${String(m?.role)}`)) ignored.push(`role ${String(m?.role)}`);
  }
  history.push({ type: 'model', response: [] });
  return history;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function responseFormat(value: unknown, ignored: string[]): ResponseFormat {
  const f = value as { type?: unknown; json_schema?: { schema?: unknown } } | null | undefined;
  if (f == null || f.type === 'text') return { type: 'text' };
  if (f.type === 'json_object') return { type: 'json_object' };
  const schema = f.type === 'json_schema' ? f.json_schema?.schema : undefined;
  if (schema && typeof schema === 'object') return { type: 'json_schema', schema, key: JSON.stringify(schema) };
  ignored.push(`response_format ${String(f.type)}`);
  return { type: 'text' };
}

/** Translates an OpenAI request body; omitted settings take OpenAI's defaults (temperature 1, top_p 1; top_k stays llama.cpp's 40). */
/** OpenAI's limit on `stop` sequences, and a length no real stop sequence reaches. */
export const MAX_STOPS = 4;
export const MAX_STOP_CHARS = 256;

export function toGeneration(body: ChatRequestBody): LlamaGeneration {
  const ignored: string[] = [];
  const history = toChatHistory(Array.isArray(body.messages) ? body.messages : [], ignored);
  const limit = num(body.max_completion_tokens) ?? num(body.max_tokens);
  const stops: unknown[] = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : [];
  // Every stop string is matched against the text at every token: bounded as OpenAI bounds them.
  if (stops.length > MAX_STOPS || stops.some((s) => typeof s === 'string' && s.length > MAX_STOP_CHARS)) {
    throw new ApiError({
      status: 400,
      message: `'stop' takes at most ${MAX_STOPS} strings of at most ${MAX_STOP_CHARS} characters each.`,
      code: ERROR_CODES.invalidValue,
      param: 'stop',
    });
  }
  const seed = num(body.seed);
  for (const key of UNSUPPORTED) if (body[key] != null) ignored.push(key);
  return {
    history,
    temperature: num(body.temperature) ?? 1,
    topP: num(body.top_p) ?? 1,
    topK: num(body.top_k),
    seed: seed === undefined ? undefined : Math.trunc(seed) >>> 0,
    maxTokens: limit !== undefined && limit >= 1 ? Math.floor(limit) : undefined,
    stop: stops.filter((s): s is string => typeof s === 'string' && s !== ''),
    frequencyPenalty: num(body.frequency_penalty) || undefined,
    presencePenalty: num(body.presence_penalty) || undefined,
    format: responseFormat(body.response_format, ignored),
    ignored,
  };
}

/** `length` only when the token limit ended the answer; every other natural end is `stop`. */
export function finishReason(stopReason: LlamaStopReason): 'stop' | 'length' | 'tool_calls' {
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'functionCalls') return 'tool_calls';
  return 'stop';
}

export function usage(promptTokens: number, completionTokens: number): CompletionUsage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** A finished generation. */
export interface LlamaAnswer {
  text: string;
  finishReason: string;
  usage: CompletionUsage;
}

const EXPONENTS = [' ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?', ' ([eE] [-+]? [0-9] [1-9]{0,15})?'];

/**
 * Tightens node-llama-cpp's GBNF number rules: they allow 16-digit exponents, so an `integer`
 * can come out as `1e-5` or `4e+1787187487` (Infinity once parsed). Integers lose the exponent,
 * other numbers keep at most two digits of it.
 */
export function tightenNumberRules(gbnf: string): string {
  return gbnf
    .split('\n')
    .map((line) => {
      for (const exponent of EXPONENTS) {
        if (!line.includes(exponent)) continue;
        return line.replace(exponent, line.startsWith('integer-number-rule ::=') ? '' : ' ([eE] [-+]? [0-9]{1,2})?');
      }
      return line;
    })
    .join('\n');
}
