import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Min } from 'class-validator';

/** A provider entry of `type: llama-cpp`: a GGUF model run in-process. Importing this loads nothing of node-llama-cpp. */
export class LlamaCppProviderConfig {
  @IsIn(['llama-cpp']) type: 'llama-cpp';
  /** Path of the GGUF model file. */
  @IsString() @IsNotEmpty() modelPath: string;
  /** Tokens each sequence can hold (prompt and answer); default 4096, at most the model's training context. */
  @IsOptional() @IsInt() @Min(64) contextSize?: number;
  /** CPU threads for evaluation; default `os.availableParallelism()`. Always passed explicitly: node-llama-cpp's CPU default (≥4) thrashes small machines. */
  @IsOptional() @IsInt() @Min(1) threads?: number;
  /** `'auto'` uses a GPU when a working build for it exists; `false` runs on the CPU only. */
  @IsOptional() @IsIn(['auto', false]) gpu: 'auto' | false = false;
  /** Requests generated at once, one context sequence each. */
  @IsOptional() @IsInt() @Min(1) parallel: number = 1;
  /** Requests allowed to wait for a free sequence; beyond it the backend answers 503. */
  @IsOptional() @IsInt() @Min(0) maxQueue: number = 16;
}
