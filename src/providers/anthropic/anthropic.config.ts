import { IsIn, IsInt, IsOptional, IsString, IsUrl, Min } from 'class-validator';
import { RemoteProviderConfig, URL_OPTIONS } from '../http/remote-provider.config.js';

/** A provider entry of `type: anthropic`: Anthropic's Messages API. */
export class AnthropicProviderConfig extends RemoteProviderConfig {
  @IsIn(['anthropic']) type: 'anthropic';
  /** Origin (and optional path prefix) of the API; requests go to `{baseURL}/v1/messages`. */
  @IsOptional() @IsUrl(URL_OPTIONS) baseURL: string = 'https://api.anthropic.com';
  /** The `anthropic-version` header. */
  @IsOptional() @IsString() version: string = '2023-06-01';
  /** `max_tokens` when the client sets none (Anthropic requires one). */
  @IsOptional() @IsInt() @Min(1) defaultMaxTokens: number = 4096;
}
