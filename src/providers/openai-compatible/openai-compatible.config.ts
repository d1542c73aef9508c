import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Min, MinLength, ValidateNested } from 'class-validator';
import { RemoteProviderConfig, URL_OPTIONS } from '../http/remote-provider.config.js';

/** How a checkpoint name without a pinned version (`…/name` or `…/name:latest`) becomes a concrete one. Give `directory` or `http`. */
export class ResolveConfig {
  /** The newest `step<N>` in `<directory>/<entity>/<project>/<name>/`, or what its `latest` link points to. */
  @IsOptional() @IsString() @MinLength(1) directory?: string;
  /** A model registry: GET this URL, {entity}, {project} and {name} filled in, answers `{"version": "step42"}`. */
  @IsOptional() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'http must be an http(s) URL template' }) http?: string;
  /** How long an answer is used before asking again (sooner when the upstream does not have that version). */
  @IsOptional() @IsInt() @Min(0) ttlMs: number = 10_000;
}

/** vLLM's runtime LoRA loading. */
export class AdapterConfig {
  /** The `lora_path` vLLM is told to load, with {entity}, {project}, {name} and {version} filled in. */
  @IsString() @Matches(/\{name\}/, { message: 'path must contain {name}' }) path: string;
  /**
   * Adapters kept loaded per target, loads in progress included. Beyond it a new adapter replaces the least
   * recently used idle one, one at a time: the new one is loaded first and the old one unloaded only once that
   * succeeded (so for that moment the target holds one more). With none idle, `503 adapter_capacity`.
   * With REDIS_URL, the count is for every replica together.
   */
  @IsOptional() @IsInt() @Min(1) maxLoaded: number = 8;
  /** Deadline for one `load_lora_adapter` (or unload) call; a load that does not answer in time is a 504 and is tried afresh next time. */
  @IsOptional() @IsInt() @Min(1) loadTimeoutMs: number = 60_000;
  /** Without it, a name without a version loads the version `latest` as it is (and stays on it while loaded). */
  @IsOptional() @ValidateNested() @Type(() => ResolveConfig) resolve?: ResolveConfig;
}

/** What trainable routes ask this upstream for; switch off a field a server does not know. */
export class TrainingConfig {
  /** `logprobs: true` (the client's `top_logprobs`, else 0). */
  @IsOptional() @IsBoolean() logprobs: boolean = true;
  /** `return_tokens_as_token_ids: true` (vLLM): logprobs tokens written `token_id:<id>`. */
  @IsOptional() @IsBoolean() returnTokensAsTokenIds: boolean = true;
  /** `return_token_ids: true` (vLLM ≥ 0.10.2): `prompt_token_ids` and `choices[].token_ids`. */
  @IsOptional() @IsBoolean() returnTokenIds: boolean = true;
  /** `stream_options.include_usage: true` on streams (the usage chunk reaches the client only if it asked for it). */
  @IsOptional() @IsBoolean() includeUsage: boolean = true;
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
  /** Fields trainable routes add to what this upstream is asked. */
  @IsOptional() @ValidateNested() @Type(() => TrainingConfig) training?: TrainingConfig;
}
