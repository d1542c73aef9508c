import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsBoolean, IsNotEmpty, IsNumber, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import type { ProviderConfig } from '../providers/backend.factory.js';

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
  /** The rest after the wildcard names a trained checkpoint, loaded as a LoRA adapter. */
  @IsOptional() @IsBoolean() adapter?: boolean;
  /** Replies carry logprobs, token ids and usage whatever the client asked (an RL trainer needs them); the default for adapter routes. */
  @IsOptional() @IsBoolean() trainable?: boolean;
}

/** The whole CONFIG_FILE, after validation. */
export interface GatewayConfig {
  /** Provider entries by name; each backend type declares its entries' settings in its own folder (see BACKEND_TYPES). */
  providers: Record<string, ProviderConfig>;
  models: ModelConfig[];
}
