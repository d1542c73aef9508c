import type { Redis } from 'ioredis';
import * as anthropic from './anthropic/anthropic.backend.js';
import { AnthropicProviderConfig } from './anthropic/anthropic.config.js';
import * as echo from './echo/echo.backend.js';
import { EchoProviderConfig } from './echo/echo.config.js';
import { RemoteProviderConfig } from './http/remote-provider.config.js';
import { LlamaCppProviderConfig } from './llama-cpp/llama-cpp.config.js';
import type { ModelBackend } from './model-backend.js';
import { NO_RETRIES, type RetryPolicy } from './model-registry.js';
import * as openai from './openai-compatible/openai-compatible.backend.js';
import { OpenAiProviderConfig } from './openai-compatible/openai-compatible.config.js';
import type { RouterEvents } from './router-events.js';

/** A backend type: the settings of its provider entries (validated at start) and how to build one. */
export interface BackendType<C extends { type: string }> {
  config: new () => C;
  /** `redis` (REDIS_URL's connection, or null) is for state replicas share. */
  create(name: string, config: C, events: RouterEvents, redis: Redis | null): ModelBackend | Promise<ModelBackend>;
}

const backendType = <C extends { type: string }>(type: BackendType<C>): BackendType<C> => type;

/** Every backend type, by the `type` a provider entry names (in the order config errors list them). */
export const BACKEND_TYPES = {
  openai: backendType({ config: OpenAiProviderConfig, create: openai.create }),
  anthropic: backendType({ config: AnthropicProviderConfig, create: anthropic.create }),
  echo: backendType({ config: EchoProviderConfig, create: echo.create }),
  // Loaded lazily: node-llama-cpp is only imported when a local model is configured.
  'llama-cpp': backendType({
    config: LlamaCppProviderConfig,
    create: async (name, config) => (await import('./llama-cpp/llama-cpp.backend.js')).create(name, config),
  }),
};

/** A provider entry's settings, of whichever backend type it names. */
export type ProviderConfig = { [K in keyof typeof BACKEND_TYPES]: InstanceType<(typeof BACKEND_TYPES)[K]['config']> }[keyof typeof BACKEND_TYPES];

/** Builds the backend a provider entry describes. */
export async function createBackend(name: string, config: ProviderConfig, events: RouterEvents, redis: Redis | null = null): Promise<ModelBackend> {
  const type = BACKEND_TYPES[config.type] as BackendType<ProviderConfig>;
  return type.create(name, config, events, redis);
}

/** The retry and cool-down settings of a provider (local backends are never retried). */
export function retryPolicy(config: ProviderConfig): RetryPolicy {
  if (!(config instanceof RemoteProviderConfig)) return NO_RETRIES;
  const { maxRetries, retryBackoffMs, cooldownAfterFailures, cooldownMs } = config;
  return { maxRetries, retryBackoffMs, cooldownAfterFailures, cooldownMs };
}
