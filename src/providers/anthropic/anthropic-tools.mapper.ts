import type { ChatRequestBody } from '../model-backend.js';
import { toAnthropicJsonSchema } from './anthropic-json-schema.js';
import { JSON_TOOL_NAME } from './anthropic-response-format.mapper.js';

export type ToolChoice = Record<string, unknown> & { type: string };

/**
 * Function tools as Anthropic tools, `cache_control` kept; `strict: true` is kept (its schema in the
 * subset Anthropic compiles) where the model has structured outputs, else left out. Also the tool
 * choice to send, and whether it forces a tool.
 */
export function convertTools(
  body: ChatRequestBody,
  strictTools: boolean,
  warnings: string[],
): { list: Record<string, unknown>[]; choice?: ToolChoice; forced: boolean } {
  const list: Record<string, unknown>[] = [];
  (Array.isArray(body.tools) ? body.tools : []).forEach((tool: { type?: unknown; function?: Record<string, unknown>; cache_control?: unknown }, k) => {
    if (tool?.type !== 'function' || !tool.function) {
      warnings.push(`tools[${k}] of type '${String(tool?.type)}' ignored (only function tools are supported)`);
      return;
    }
    const { name, description, parameters, strict } = tool.function;
    const cacheControl = tool.cache_control ?? tool.function.cache_control;
    const schema = parameters ?? { type: 'object', properties: {} };
    const isStrict = strict === true && strictTools;
    list.push({
      name,
      ...(description !== undefined && { description }),
      input_schema: isStrict ? toAnthropicJsonSchema(schema) : schema,
      ...(isStrict && { strict: true }),
      ...(cacheControl !== undefined && cacheControl !== null && { cache_control: cacheControl }),
    });
  });
  if (list.length === 0) return { list, forced: false };
  const choice = toolChoice(body.tool_choice);
  if (body.parallel_tool_calls === false && choice.type !== 'none') choice.disable_parallel_tool_use = true;
  const sent = body.tool_choice !== undefined || choice.disable_parallel_tool_use ? choice : undefined;
  return { list, choice: sent, forced: choice.type === 'any' || choice.type === 'tool' };
}

function toolChoice(choice: unknown): ToolChoice {
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  const name = (choice as { function?: { name?: unknown } } | null)?.function?.name;
  if (typeof name === 'string') return { type: 'tool', name };
  return { type: 'auto' };
}

/**
 * The tool choice beside the JSON tool: forced to it when the client has no tools of its own (or
 * said `none`), any tool when it has (the answer is the JSON tool's call, after the client's tools
 * have run), the client's own named tool left as it is. Anthropic forbids forcing while thinking.
 */
export function jsonToolChoice(choice: ToolChoice | undefined, ownTools: boolean, thinking: boolean): ToolChoice | undefined {
  const parallel = choice?.disable_parallel_tool_use ? { disable_parallel_tool_use: true } : {};
  if (thinking) return choice?.type === 'none' || choice?.type === 'any' ? { type: 'auto', ...parallel } : choice;
  if (choice?.type === 'tool') return choice;
  return ownTools && choice?.type !== 'none' ? { type: 'any', ...parallel } : { type: 'tool', name: JSON_TOOL_NAME, ...parallel };
}
