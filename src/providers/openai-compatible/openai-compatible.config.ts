import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Min, ValidateNested } from 'class-validator';
import { RemoteProviderConfig, URL_OPTIONS } from '../http/remote-provider.config.js';

/** vLLM's runtime LoRA loading. */
export class AdapterConfig {
  /** The `lora_path` vLLM is told to load, with {entity}, {project}, {name} and {version} filled in. */
  @IsString() @Matches(/\{name\}/, { message: 'path must contain {name}' }) path: string;
  /**
   * Adapters kept loaded per target, loads in progress included. Beyond it a new adapter replaces the least
   * recently used idle one, one at a time: the new one is loaded first and the old one unloaded only once that
   * succeeded (so for that moment the target holds one more). With none idle, `503 adapter_capacity`.
   */
  @IsOptional() @IsInt() @Min(1) maxLoaded: number = 8;
  /** Deadline for one `load_lora_adapter` (or unload) call; a load that does not answer in time is a 504 and is tried afresh next time. */
  @IsOptional() @IsInt() @Min(1) loadTimeoutMs: number = 60_000;
}

/** A provider entry of `type: openai`: any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, SGLang, OpenAI, OpenRouter …). */
export class OpenAiProviderConfig extends RemoteProviderConfig {
  @IsIn(['openai']) type: 'openai';
  /** Requests go to `{baseURL}/chat/completions`. */
  @IsUrl(URL_OPTIONS) baseURL: string;
  /** Largest reply body accepted from the upstream, in bytes. */
  @IsOptional() @IsInt() @Min(1024) maxResponseBytes: number = 64 * 1024 * 1024;
  /** vLLM's runtime LoRA loading, for models declared with `adapter: true`. */
  @IsOptional() @ValidateNested() @Type(() => AdapterConfig) adapters?: AdapterConfig;
}
