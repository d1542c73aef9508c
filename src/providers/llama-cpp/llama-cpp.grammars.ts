import type { Logger } from '@nestjs/common';
import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { type ResponseFormat, tightenNumberRules } from './llama-cpp.mapper.js';

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
