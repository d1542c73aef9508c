import { IsInt, IsObject, IsOptional, IsString, Min } from 'class-validator';

/** What `@IsUrl` accepts as a provider's base URL: http(s), a host without a TLD (`http://vllm:8000/v1`) included. */
export const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** Settings every remote provider shares: its key, deadline, retries and cool-down, extra headers. */
export abstract class RemoteProviderConfig {
  abstract type: string;
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
  /** Extra headers sent upstream (e.g. OpenRouter's attribution headers, `anthropic-beta`). */
  @IsOptional() @IsObject() headers?: Record<string, string>;
}
