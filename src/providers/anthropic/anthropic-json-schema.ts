/** String formats `output_config.format` schemas may keep (Anthropic's structured-outputs page; NOTES.md §1). */
const STRING_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);

type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A client's JSON schema in the subset Anthropic's structured outputs compile, by the rules its SDKs
 * apply before sending: every object closed (`additionalProperties: false`), `oneOf` read as `anyOf`,
 * only the supported string formats and `minItems` 0 or 1 kept, and every other constraint
 * (minimum, pattern, maxLength …) moved into the description, where the model still reads it.
 * `$schema` is metadata and is left out. Pure; the client's object is not changed.
 */
export function toAnthropicJsonSchema(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  const rest: Schema = { ...schema };
  const take = (key: string): unknown => {
    const value = rest[key];
    delete rest[key];
    return value;
  };
  delete rest.$schema;
  const ref = take('$ref');
  if (ref !== undefined) return { $ref: ref };
  const out: Schema = {};
  for (const key of ['$defs', 'definitions']) {
    const defs = take(key);
    if (isSchema(defs)) out[key] = mapValues(defs);
  }
  const type = take('type');
  const anyOf = take('anyOf') ?? take('oneOf');
  const allOf = take('allOf');
  if (Array.isArray(anyOf)) out.anyOf = anyOf.map(toAnthropicJsonSchema);
  else if (Array.isArray(allOf)) out.allOf = allOf.map(toAnthropicJsonSchema);
  else if (type !== undefined) out.type = type;
  for (const key of ['description', 'title', 'const', 'enum']) {
    const value = take(key);
    if (value !== undefined) out[key] = value;
  }
  if (type === 'object') {
    const properties = take('properties');
    out.properties = isSchema(properties) ? mapValues(properties) : {};
    take('additionalProperties');
    out.additionalProperties = false;
    const required = take('required');
    if (required !== undefined) out.required = required;
  } else if (type === 'string' && typeof rest.format === 'string' && STRING_FORMATS.has(rest.format)) {
    out.format = take('format');
  } else if (type === 'array') {
    const items = take('items');
    if (items !== undefined) out.items = toAnthropicJsonSchema(items);
    if (rest.minItems === 0 || rest.minItems === 1) out.minItems = take('minItems');
  }
  const left = Object.entries(rest);
  if (left.length > 0) {
    const note = `{${left.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}`;
    out.description = typeof out.description === 'string' && out.description ? `${out.description}\n\n${note}` : note;
  }
  return out;
}

function mapValues(schemas: Schema): Schema {
  return Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, toAnthropicJsonSchema(v)]));
}
