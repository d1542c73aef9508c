import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatRequestBody } from '../model-backend.js';
import type { ClaudeCapabilities } from './anthropic-models.js';

/** OpenAI's `reasoning_effort` values (openai-node `ReasoningEffort`). */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/**
 * `budget_tokens` for models with manual thinking: LiteLLM's numbers (low 1024, medium 2048, high
 * 4096, xhigh 8192), doubling on for `max`; `minimal` is Anthropic's smallest budget, 1024.
 */
export const THINKING_BUDGET_TOKENS: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

/** `output_config.effort` for models with adaptive thinking (`xhigh` is sent as `max` where the model lacks it). */
export const ADAPTIVE_EFFORT: Record<Exclude<ReasoningEffort, 'none'>, string> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
};

const THINKING_TYPES = new Set(['enabled', 'adaptive', 'disabled']);

/** What a request asks of Anthropic's extended thinking. */
export interface ThinkingPlan {
  /** The `thinking` field to send; undefined leaves the model's default. */
  config?: Record<string, unknown> & { type: string };
  /** `output_config.effort` (adaptive thinking). */
  effort?: string;
  /** Added to `max_tokens` so the answer keeps the room the client asked for beside the thinking budget. */
  extraMaxTokens: number;
  /** The client asked for thinking (not just the model's default). */
  requested: boolean;
}

/**
 * `thinking` as Anthropic writes it is sent unchanged (with `reasoning_effort` as the effort of an
 * adaptive one); otherwise `reasoning_effort` becomes a budget (manual models) or an effort
 * (adaptive models), `none` turns thinking off. Pure; a 400 ApiError for a value it cannot read.
 */
export function toThinking(body: ChatRequestBody, caps: ClaudeCapabilities, warnings: string[]): ThinkingPlan {
  const effort = reasoningEffort(body.reasoning_effort);
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null) {
    const type = (thinking as { type?: unknown }).type;
    if (typeof thinking !== 'object' || Array.isArray(thinking) || typeof type !== 'string' || !THINKING_TYPES.has(type)) {
      throw new ApiError({
        status: 400,
        message: "thinking must be an object whose type is 'enabled', 'adaptive' or 'disabled', as Anthropic writes it.",
        code: ERROR_CODES.invalidRequest,
        param: 'thinking',
      });
    }
    const adaptiveEffort = type === 'adaptive' && effort && effort !== 'none' ? effortFor(effort, caps) : undefined;
    return { config: { ...(thinking as Record<string, unknown>), type }, effort: adaptiveEffort, extraMaxTokens: 0, requested: type !== 'disabled' };
  }
  if (effort === undefined) return { extraMaxTokens: 0, requested: false };
  if (caps.thinking === 'none') {
    if (effort !== 'none') warnings.push(`reasoning_effort ignored (this model has no extended thinking)`);
    return { extraMaxTokens: 0, requested: false };
  }
  if (effort === 'none') return { config: { type: 'disabled' }, extraMaxTokens: 0, requested: false };
  if (caps.thinking === 'adaptive')
    return { config: { type: 'adaptive', display: 'summarized' }, effort: effortFor(effort, caps), extraMaxTokens: 0, requested: true };
  const budget = THINKING_BUDGET_TOKENS[effort];
  return { config: { type: 'enabled', budget_tokens: budget }, extraMaxTokens: budget, requested: true };
}

/** Whether the model will think under this plan (asked to, or by default). */
export function thinks(plan: ThinkingPlan, caps: ClaudeCapabilities): boolean {
  return plan.config ? plan.config.type !== 'disabled' : caps.thinksByDefault;
}

/** The plan with thinking off: `disabled` where the model would think by default, else nothing. */
export function withoutThinking(caps: ClaudeCapabilities): ThinkingPlan {
  return caps.thinksByDefault ? { config: { type: 'disabled' }, extraMaxTokens: 0, requested: false } : { extraMaxTokens: 0, requested: false };
}

function effortFor(effort: Exclude<ReasoningEffort, 'none'>, caps: ClaudeCapabilities): string {
  return effort === 'xhigh' && !caps.xhighEffort ? 'max' : ADAPTIVE_EFFORT[effort];
}

function reasoningEffort(value: unknown): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (value === 'none' || Object.hasOwn(THINKING_BUDGET_TOKENS, value))) return value as ReasoningEffort;
  const allowed = ['none', ...Object.keys(THINKING_BUDGET_TOKENS)].join(', ');
  throw new ApiError({ status: 400, message: `reasoning_effort must be one of ${allowed}.`, code: ERROR_CODES.invalidRequest, param: 'reasoning_effort' });
}
