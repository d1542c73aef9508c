import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { ChatRequestBody } from '../model-backend.js';
import { toAnthropicJsonSchema } from './anthropic-json-schema.js';
import type { ClaudeCapabilities } from './anthropic-models.js';

/** The tool whose input is the answer, where a JSON answer cannot be asked for directly; its calls come back as the message content. */
export const JSON_TOOL_NAME = 'json_response';

/** How a `response_format` is asked of Anthropic. */
export interface ResponseFormatPlan {
  /** `output_config.format`, for models with structured outputs. */
  format?: { type: 'json_schema'; schema: unknown };
  /** A tool whose input is the JSON answer (models without structured outputs, and `json_object`). */
  tool?: { name: string; description: string; input_schema: unknown };
}

const bad = (message: string, param: string) => new ApiError({ status: 400, message, code: ERROR_CODES.invalidRequest, param });

/**
 * `json_schema` becomes `output_config.format` where the model takes it (the schema in the subset
 * Anthropic compiles), else a tool whose input schema is the client's schema; `json_object` (no
 * schema: Anthropic has no JSON mode, and a format needs a closed schema) is always the tool with
 * `{type: 'object'}`. `text` asks for nothing. `json_schema.name` and `strict` have no counterpart.
 */
export function toResponseFormat(body: ChatRequestBody, caps: ClaudeCapabilities): ResponseFormatPlan {
  const format = body.response_format as { type?: unknown; json_schema?: { schema?: unknown; description?: unknown } } | null | undefined;
  if (format === undefined || format === null || format.type === 'text') return {};
  if (format.type === 'json_object') return { tool: jsonTool({ type: 'object' }) };
  if (format.type !== 'json_schema') throw bad("response_format.type must be 'text', 'json_object' or 'json_schema'.", 'response_format.type');
  const schema = format.json_schema?.schema;
  const description = typeof format.json_schema?.description === 'string' ? format.json_schema.description : undefined;
  if (schema === undefined || schema === null) return { tool: jsonTool({ type: 'object' }, description) };
  if (typeof schema !== 'object' || Array.isArray(schema))
    throw bad('response_format.json_schema.schema must be a JSON schema object.', 'response_format.json_schema.schema');
  if (caps.structuredOutputs) return { format: { type: 'json_schema', schema: toAnthropicJsonSchema(schema) } };
  if ((schema as { type?: unknown }).type !== 'object')
    throw bad("response_format.json_schema.schema must describe an object (type: 'object') for this model.", 'response_format.json_schema.schema');
  return { tool: jsonTool(schema, description) };
}

function jsonTool(inputSchema: unknown, description = 'Respond with the answer as a JSON object: the input of this tool is the answer.') {
  return { name: JSON_TOOL_NAME, description, input_schema: inputSchema };
}
