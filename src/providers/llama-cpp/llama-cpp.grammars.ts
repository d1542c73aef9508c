import type { Logger } from '@nestjs/common';
import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { type ResponseFormat, tightenNumberRules } from './llama-cpp.mapper.js';

/** JSON-schema keywords node-llama-cpp's grammar enforces, and annotations that constrain nothing. */
const ENFORCED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'enum',
  'const',
  'oneOf',
  'format',
  '$defs',
  '$ref',
]);
const ANNOTATIONS = new Set(['title', 'description', '$schema', '$id', '$comment', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly']);

/** The keywords of a schema (and its subschemas) that the grammar leaves unenforced, such as `anyOf`, `pattern` or `minimum`. */
export function unenforcedKeywords(schema: unknown, found = new Set<string>()): string[] {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [...found];
  const node = schema as Record<string, unknown>;
  for (const key of Object.keys(node)) if (!ENFORCED.has(key) && !ANNOTATIONS.has(key)) found.add(key);
  const children: unknown[] = [node.items, node.additionalProperties];
  for (const map of [node.properties, node.$defs]) if (map && typeof map === 'object') children.push(...Object.values(map as Record<string, unknown>));
  for (const list of [node.prefixItems, node.oneOf, node.items]) if (Array.isArray(list)) children.push(...(list as unknown[]));
  for (const child of children) unenforcedKeywords(child, found);
  return [...found];
}

/**
 * Grammars that enforce `response_format`, compiled once per schema text and kept in a small LRU:
 * compiling costs milliseconds, and a client may send many schemas.
 */
export class GrammarCache {
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly logger: Logger,
    private readonly size = 32,
  ) {}

  get(format: ResponseFormat): Promise<LlamaGrammar> | undefined {
    if (format.type === 'text') return undefined;
    const key = format.type === 'json_schema' ? format.key : '';
    let grammar = this.grammars.get(key);
    if (grammar) {
      this.grammars.delete(key);
    } else {
      grammar = this.compile(format);
      if (this.grammars.size >= this.size) this.grammars.delete(this.grammars.keys().next().value as string);
    }
    this.grammars.set(key, grammar);
    return grammar;
  }

  /** A schema node-llama-cpp cannot compile falls back to plain JSON, with a warning. */
  private async compile(format: ResponseFormat): Promise<LlamaGrammar> {
    const { llama } = this;
    const unenforced = format.type === 'json_schema' ? unenforcedKeywords(format.schema) : [];
    if (unenforced.length) this.logger.warn(`Not enforcing these json_schema keywords (the output may not follow them): ${unenforced.join(', ')}`);
    let base: LlamaGrammar;
    try {
      base = format.type === 'json_schema' ? await llama.createGrammarForJsonSchema(format.schema as never) : await llama.getGrammarFor('json');
    } catch (e) {
      this.logger.warn(`Enforcing plain JSON instead of a JSON schema llama-cpp cannot compile: ${e instanceof Error ? e.message : String(e)}`);
      base = await llama.getGrammarFor('json');
    }
    const grammar = tightenNumberRules(base.grammar);
    if (grammar === base.grammar) return base;
    const { stopGenerationTriggers, trimWhitespaceSuffix, rootRuleName } = base;
    return llama.createGrammar({ grammar, stopGenerationTriggers, trimWhitespaceSuffix, rootRuleName }).catch(() => base);
  }
}
