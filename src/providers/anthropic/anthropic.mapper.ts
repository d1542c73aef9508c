import type { ChatRequestBody } from '../model-backend.js';
import { convertToAnthropicPrompt, type AnthropicMessageParam } from './convert-to-anthropic-prompt.js';

/** The body of `POST /v1/messages`. */
export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  [field: string]: unknown;
}

export interface AnthropicTranslation {
  request: AnthropicRequest;
  /** Settings Anthropic cannot honour: the backend logs them, the request goes on without them. */
  warnings: string[];
}

/** OpenAI fields with no Anthropic counterpart, and when a value asks for something (so is worth a warning). */
const UNSUPPORTED = Object.entries<(v: unknown) => boolean>({
  n: (v) => v !== 1,
  logprobs: (v) => v === true,
  top_logprobs: (v) => v !== 0,
  presence_penalty: (v) => v !== 0,
  frequency_penalty: (v) => v !== 0,
  seed: () => true,
  logit_bias: (v) => typeof v !== 'object' || Object.keys(v as object).length > 0,
  response_format: (v) => (v as { type?: unknown }).type !== 'text',
  audio: () => true,
  modalities: (v) => !(Array.isArray(v) && v.every((m) => m === 'text')),
  prediction: () => true,
  reasoning_effort: () => true,
  web_search_options: () => true,
});

/** An OpenAI chat request as the body of an Anthropic Messages request. Pure; throws a 400 ApiError for input it cannot translate. */
export function toAnthropicRequest(body: ChatRequestBody, options: { model: string; defaultMaxTokens: number; stream: boolean }): AnthropicTranslation {
  const warnings: string[] = [];
  const { system, messages } = convertToAnthropicPrompt(body.messages, warnings);
  const request: AnthropicRequest = { model: options.model, max_tokens: maxTokens(body) ?? options.defaultMaxTokens, messages };
  if (system.length > 0) request.system = system.join('\n\n');
  convertTools(body, request, warnings);
  const stop = body.stop;
  if (typeof stop === 'string') request.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) request.stop_sequences = stop;
  if (typeof body.temperature === 'number') {
    if (body.temperature > 1) warnings.push(`temperature ${body.temperature} clamped to 1 (Anthropic's maximum)`);
    request.temperature = Math.min(body.temperature, 1);
  }
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (typeof body.top_k === 'number') request.top_k = body.top_k;
  const user = body.user ?? body.safety_identifier;
  if (typeof user === 'string' && user) request.metadata = { user_id: user };
  if (options.stream) request.stream = true;
  for (const [field, matters] of UNSUPPORTED) {
    const value = body[field];
    if (value !== undefined && value !== null && matters(value)) warnings.push(`${field} ignored (not supported by Anthropic)`);
  }
  return { request, warnings };
}

function maxTokens(body: ChatRequestBody): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' ? v : undefined;
}

function convertTools(body: ChatRequestBody, request: AnthropicRequest, warnings: string[]): void {
  const tools: Record<string, unknown>[] = [];
  (Array.isArray(body.tools) ? body.tools : []).forEach((tool: { type?: unknown; function?: Record<string, unknown> }, k) => {
    if (tool?.type !== 'function' || !tool.function) {
      warnings.push(`tools[${k}] of type '${String(tool?.type)}' ignored (only function tools are supported)`);
      return;
    }
    const { name, description, parameters } = tool.function;
    tools.push({ name, ...(description !== undefined && { description }), input_schema: parameters ?? { type: 'object', properties: {} } });
  });
  if (tools.length === 0) return;
  request.tools = tools;
  const choice = toolChoice(body.tool_choice);
  if (body.parallel_tool_calls === false && choice.type !== 'none') choice.disable_parallel_tool_use = true;
  if (body.tool_choice !== undefined || choice.disable_parallel_tool_use) request.tool_choice = choice;
}

function toolChoice(choice: unknown): Record<string, unknown> & { type: string } {
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  const name = (choice as { function?: { name?: unknown } } | null)?.function?.name;
  if (typeof name === 'string') return { type: 'tool', name };
  return { type: 'auto' };
}
