import type { ProviderConfig } from '../config/gateway-config.schema.js';
import { AnthropicBackend } from './anthropic/anthropic.backend.js';
import { EchoBackend } from './echo/echo.backend.js';
import type { ModelBackend } from './model-backend.js';
import { NO_RETRIES, type RetryPolicy } from './model-registry.js';
import type { RouterEvents } from './router-events.js';
import { OpenAiCompatibleBackend } from './openai-compatible/openai-compatible.backend.js';

/** Builds the backend a provider entry describes: one line per backend type. */
export async function createBackend(name: string, config: ProviderConfig, events: RouterEvents): Promise<ModelBackend> {
  switch (config.type) {
    case 'echo':
      return new EchoBackend();
    case 'openai':
      return new OpenAiCompatibleBackend(
        { name, baseURL: config.baseURL, apiKey: config.apiKey, timeoutMs: config.timeoutMs, headers: config.headers, maxResponseBytes: config.maxResponseBytes, adapters: config.adapters },
        events,
      );
    case 'anthropic':
      return new AnthropicBackend({ name, baseURL: config.baseURL, apiKey: config.apiKey, version: config.version, defaultMaxTokens: config.defaultMaxTokens, timeoutMs: config.timeoutMs, headers: config.headers });
    case 'llama-cpp': {
      // Loaded lazily: node-llama-cpp is only imported when a local model is configured.
      const { LlamaCppBackend } = await import('./llama-cpp/llama-cpp.backend.js');
      const { modelPath, contextSize, threads, gpu, parallel, maxQueue } = config;
      return LlamaCppBackend.load({ modelPath, contextSize, threads, gpu, parallel, maxQueue });
    }
  }
}

/** The retry and cool-down settings of a provider (local backends are never retried). */
export function retryPolicy(config: ProviderConfig): RetryPolicy {
  if (config.type !== 'openai' && config.type !== 'anthropic') return NO_RETRIES;
  const { maxRetries, retryBackoffMs, cooldownAfterFailures, cooldownMs } = config;
  return { maxRetries, retryBackoffMs, cooldownAfterFailures, cooldownMs };
}
