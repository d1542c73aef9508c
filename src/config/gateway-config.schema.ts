import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, IsUrl, Matches, Min, ValidateNested } from 'class-validator';

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** Settings every remote provider shares. */
class RemoteProviderConfig {
  @IsIn(['openai', 'anthropic']) type: string;
  @IsOptional() @IsString() apiKey?: string;
  /** Deadline for a whole non-streamed reply, and for the silence between streamed data events (keep-alive comments and Anthropic pings do not count). */
  @IsOptional() @IsInt() @Min(1) timeoutMs: number = 120_000;
  /** Retries after the first try, for connect errors, 408, 429 and 5xx. */
  @IsOptional() @IsInt() @Min(0) maxRetries: number = 2;
  /** First backoff delay; doubled each retry, with jitter. */
  @IsOptional() @IsInt() @Min(0) retryBackoffMs: number = 250;
  /** Consecutive failures after which a target is cooled down. */
  @IsOptional() @IsInt() @Min(1) cooldownAfterFailures: number = 3;
  /** How long a cooled-down target is passed over. */
  @IsOptional() @IsInt() @Min(0) cooldownMs: number = 30_000;
  @IsOptional() @IsObject() headers?: Record<string, string>;
}

export class AdapterConfig {
  /** The `lora_path` vLLM is told to load, with {entity}, {project}, {name} and {version} filled in. */
  @IsString() @Matches(/\{name\}/, { message: 'path must contain {name}' }) path: string;
  /** Adapters kept loaded per target; beyond it the least recently used idle one is unloaded. */
  @IsOptional() @IsInt() @Min(1) maxLoaded: number = 8;
  /** Deadline for one `load_lora_adapter` call; a load that does not answer in time is a 504 and is tried afresh next time. */
  @IsOptional() @IsInt() @Min(1) loadTimeoutMs: number = 60_000;
}

export class OpenAiProviderConfig extends RemoteProviderConfig {
  @IsIn(['openai']) declare type: 'openai';
  @IsUrl(URL_OPTIONS) baseURL: string;
  /** Largest reply body accepted from the upstream, in bytes. */
  @IsOptional() @IsInt() @Min(1024) maxResponseBytes: number = 64 * 1024 * 1024;
  /** vLLM's runtime LoRA loading, for models declared with `adapter: true`. */
  @IsOptional() @ValidateNested() @Type(() => AdapterConfig) adapters?: AdapterConfig;
}

export class AnthropicProviderConfig extends RemoteProviderConfig {
  @IsIn(['anthropic']) declare type: 'anthropic';
  @IsOptional() @IsUrl(URL_OPTIONS) baseURL: string = 'https://api.anthropic.com';
  /** The `anthropic-version` header. */
  @IsOptional() @IsString() version: string = '2023-06-01';
  /** `max_tokens` when the client sets none (Anthropic requires one). */
  @IsOptional() @IsInt() @Min(1) defaultMaxTokens: number = 4096;
}

export class EchoProviderConfig {
  @IsIn(['echo']) type: 'echo';
}

export class LlamaCppProviderConfig {
  @IsIn(['llama-cpp']) type: 'llama-cpp';
  @IsString() @IsNotEmpty() modelPath: string;
  @IsOptional() @IsInt() @Min(64) contextSize?: number;
  @IsOptional() @IsInt() @Min(1) threads?: number;
  @IsOptional() @IsIn(['auto', false]) gpu: 'auto' | false = false;
  @IsOptional() @IsInt() @Min(1) parallel: number = 1;
  @IsOptional() @IsInt() @Min(0) maxQueue: number = 16;
}

export type ProviderConfig = OpenAiProviderConfig | AnthropicProviderConfig | EchoProviderConfig | LlamaCppProviderConfig;

export const PROVIDER_CLASSES = {
  openai: OpenAiProviderConfig,
  anthropic: AnthropicProviderConfig,
  echo: EchoProviderConfig,
  'llama-cpp': LlamaCppProviderConfig,
} as const;

export class TargetConfig {
  @IsString() @IsNotEmpty() provider: string;
  @IsOptional() @IsString() @IsNotEmpty() model?: string;
  @IsOptional() @IsNumber() @Min(0) weight: number = 1;
}

export class ModelConfig {
  /** What clients send as `model`; a trailing `*` matches any rest. */
  @IsString() @IsNotEmpty() @Matches(/^[^*]*\*?$/, { message: 'name may hold one `*`, at its end' }) name: string;
  @IsOptional() @IsString() @IsNotEmpty() provider?: string;
  @IsOptional() @IsString() @IsNotEmpty() model?: string;
  @IsOptional() @IsArray() @ArrayNotEmpty() @ValidateNested({ each: true }) @Type(() => TargetConfig) targets?: TargetConfig[];
  @IsOptional() @IsArray() @IsString({ each: true }) fallbacks?: string[];
  @IsOptional() @IsBoolean() adapter?: boolean;
}

/** The whole CONFIG_FILE, after validation. */
export interface GatewayConfig {
  providers: Record<string, ProviderConfig>;
  models: ModelConfig[];
}
