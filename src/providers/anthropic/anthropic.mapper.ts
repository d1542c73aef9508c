import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatRequestBody } from '../model-backend.js';
import { claudeCapabilities, type ClaudeCapabilities } from './anthropic-models.js';
import { JSON_TOOL_NAME, toResponseFormat } from './anthropic-response-format.mapper.js';
import { convertTools, jsonToolChoice } from './anthropic-tools.mapper.js';
import { thinks, toThinking, withoutThinking, type ThinkingPlan } from './anthropic-thinking.mapper.js';
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
  /** The tool whose input is the JSON answer, when `response_format` needed one: its calls come back as content. */
  jsonTool?: string;
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
  audio: () => true,
  modalities: (v) => !(Array.isArray(v) && v.every((m) => m === 'text')),
  prediction: () => true,
  web_search_options: () => true,
});

/** An OpenAI chat request as the body of an Anthropic Messages request. Pure; throws a 400 ApiError for input it cannot translate. */
export function toAnthropicRequest(body: ChatRequestBody, options: { model: string; defaultMaxTokens: number; stream: boolean }): AnthropicTranslation {
  const warnings: string[] = [];
  const caps = claudeCapabilities(options.model);
  const { system, messages } = convertToAnthropicPrompt(body.messages, warnings);
  const request: AnthropicRequest = { model: options.model, max_tokens: maxTokens(body) ?? options.defaultMaxTokens, messages };
  if (system !== undefined) request.system = system;
  const tools = convertTools(body, caps.structuredOutputs, warnings);
  const thinking = thinkingFor(body, caps, tools.forced, messages, warnings);
  const format = toResponseFormat(body, caps);
  if (format.tool) {
    if (tools.list.some((t) => t.name === JSON_TOOL_NAME))
      throw new ApiError({
        status: 400,
        message: `The tool name '${JSON_TOOL_NAME}' is taken by response_format on this model.`,
        code: ERROR_CODES.invalidRequest,
        param: 'tools',
      });
    tools.choice = jsonToolChoice(tools.choice, tools.list.length > 0, thinks(thinking, caps));
    tools.list.push(format.tool);
  }
  if (tools.list.length > 0) request.tools = tools.list;
  if (tools.list.length > 0 && tools.choice) request.tool_choice = tools.choice;
  const outputConfig = { ...(format.format && { format: format.format }), ...(thinking.effort && { effort: thinking.effort }) };
  if (Object.keys(outputConfig).length > 0) request.output_config = outputConfig;
  if (thinking.config) request.thinking = thinking.config;
  request.max_tokens += thinking.extraMaxTokens;
  sampling(body, request, thinks(thinking, caps), warnings);
  const stop = body.stop;
  if (typeof stop === 'string') request.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) request.stop_sequences = stop;
  const user = body.user ?? body.safety_identifier;
  if (typeof user === 'string' && user) request.metadata = { user_id: user };
  if (body.cache_control !== undefined && body.cache_control !== null) request.cache_control = body.cache_control;
  if (options.stream) request.stream = true;
  for (const [field, matters] of UNSUPPORTED) {
    const value = body[field];
    if (value !== undefined && value !== null && matters(value)) warnings.push(`${field} ignored (not supported by Anthropic)`);
  }
  return { request, warnings, ...(format.tool && { jsonTool: JSON_TOOL_NAME }) };
}

function maxTokens(body: ChatRequestBody): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The thinking plan, checked against what Anthropic refuses: a forced tool while thinking (a 400
 * here, naming tool_choice), and a tool turn sent back without its signed thinking (thinking is then
 * left off for this request, as LiteLLM does, with a warning).
 */
function thinkingFor(
  body: ChatRequestBody,
  caps: ClaudeCapabilities,
  forcedTool: boolean,
  messages: AnthropicMessageParam[],
  warnings: string[],
): ThinkingPlan {
  const plan = toThinking(body, caps, warnings);
  if (!thinks(plan, caps)) return plan;
  if (forcedTool) {
    if (!plan.requested) return withoutThinking(caps);
    throw new ApiError({
      status: 400,
      message: "Anthropic cannot force a tool call while the model thinks: send tool_choice 'auto' or 'none', or no reasoning_effort/thinking.",
      code: ERROR_CODES.invalidRequest,
      param: 'tool_choice',
    });
  }
  if (unsignedToolTurn(messages)) {
    warnings.push('thinking left off: the assistant tool-call turn being answered carries no signed thinking (send thinking_blocks back)');
    return withoutThinking(caps);
  }
  return plan;
}

/** The request answers tool results whose assistant turn has no thinking block first. */
function unsignedToolTurn(messages: AnthropicMessageParam[]): boolean {
  const last = messages[messages.length - 1];
  const turn = messages[messages.length - 2];
  if (last?.role !== 'user' || turn?.role !== 'assistant' || !last.content.some((b) => b.type === 'tool_result')) return false;
  const first = turn.content[0]?.type;
  return first !== 'thinking' && first !== 'redacted_thinking';
}

/** With thinking on, Anthropic refuses temperature and top_k, and top_p below 0.95: those are left out with a warning. */
function sampling(body: ChatRequestBody, request: AnthropicRequest, thinking: boolean, warnings: string[]): void {
  if (typeof body.temperature === 'number') {
    if (thinking) warnings.push('temperature ignored (not allowed while thinking)');
    else {
      if (body.temperature > 1) warnings.push(`temperature ${body.temperature} clamped to 1 (Anthropic's maximum)`);
      request.temperature = Math.min(body.temperature, 1);
    }
  }
  if (typeof body.top_p === 'number') {
    if (thinking && body.top_p < 0.95) warnings.push('top_p ignored (below 0.95 is not allowed while thinking)');
    else request.top_p = body.top_p;
  }
  if (typeof body.top_k === 'number') {
    if (thinking) warnings.push('top_k ignored (not allowed while thinking)');
    else request.top_k = body.top_k;
  }
}
