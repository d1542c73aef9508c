import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(new URL('../fixtures/openai-chat-completions.schemas.json', import.meta.url), 'utf8'));
/** OpenAPI 3.0's `nullable` as Ajv understands it: a null alternative where there is no `type`, and null among an `enum`. */
function nullableToAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableToAnyOf);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullableToAnyOf(v);
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
// OpenAI's own format name for Unix timestamps; the `type: integer` beside it is what is checked.
ajv.addFormat('unixtime', true);
ajv.addSchema(nullableToAnyOf(doc) as object, 'openai');

/** Validates a value against one of OpenAI's published schemas; returns the errors (empty when valid). */
export function openAiSchemaErrors(name: string, value: unknown): string[] {
  const validate = ajv.getSchema(`openai#/components/schemas/${name}`);
  if (!validate) throw new Error(`no OpenAI schema ${name}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
