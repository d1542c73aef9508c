import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { gatewayConfig, isTrainable } from '../config/gateway.config.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { REDIS_CLIENT } from '../rate-limit/rate-limit.service.js';
import { createBackend, retryPolicy, type ProviderConfig } from './backend.factory.js';
import { CheckpointVersions } from './checkpoints/checkpoint-versions.js';
import { DirectoryResolver } from './checkpoints/directory-resolver.js';
import { HttpResolver } from './checkpoints/http-resolver.js';
import { CompletionRouter } from './completion-router.js';
import { ModelRegistry, type ProviderEntry } from './model-registry.js';
import { ROUTER_EVENTS, type RouterEvents } from './router-events.js';

/** The resolver that makes versionless checkpoint names concrete on this provider, when it declares one. */
function checkpointVersions(name: string, provider: ProviderConfig): CheckpointVersions | undefined {
  const resolve = provider.type === 'openai' ? provider.adapters?.resolve : undefined;
  if (!resolve) return undefined;
  const resolver = resolve.directory !== undefined ? new DirectoryResolver(resolve.directory) : new HttpResolver(name, resolve.http!);
  return new CheckpointVersions(resolver, resolve.ttlMs);
}

/** Builds every configured backend (loading local models) and the registry over them. */
async function registryFactory(config: ConfigType<typeof gatewayConfig>, events: RouterEvents, redis: Redis | null): Promise<ModelRegistry> {
  const entries = new Map<string, ProviderEntry>();
  try {
    for (const [name, provider] of Object.entries(config.providers)) {
      entries.set(name, {
        name,
        backend: await createBackend(name, provider, events, redis),
        policy: retryPolicy(provider),
        loadsAdapters: provider.type === 'openai' && !!provider.adapters,
        training: provider.type === 'openai' ? provider.training : undefined,
        versions: checkpointVersions(name, provider),
      });
    }
  } catch (err) {
    await Promise.allSettled([...entries.values()].map(async (e) => e.backend.close?.()));
    throw err;
  }
  const routes = config.models.map((m) => ({
    name: m.name,
    targets: m.targets ?? [{ provider: m.provider!, model: m.model, weight: 1 }],
    fallbacks: m.fallbacks,
    adapter: m.adapter,
    trainable: isTrainable(m),
  }));
  new Logger('Providers').log(`Serving ${routes.map((r) => r.name).join(', ')} from ${[...entries.keys()].join(', ')}`);
  return new ModelRegistry(entries, routes);
}

/** Needs ROUTER_EVENTS from a global module (metrics); REDIS_CLIENT (REDIS_URL's one connection) for adapter state replicas share. */
@Module({
  imports: [ConfigModule.forFeature(gatewayConfig), RateLimitModule],
  providers: [
    { provide: ModelRegistry, useFactory: registryFactory, inject: [gatewayConfig.KEY, ROUTER_EVENTS, REDIS_CLIENT] },
    {
      provide: CompletionRouter,
      useFactory: (registry: ModelRegistry, events: RouterEvents) => new CompletionRouter(registry, events),
      inject: [ModelRegistry, ROUTER_EVENTS],
    },
  ],
  exports: [ModelRegistry, CompletionRouter],
})
export class ProvidersModule implements OnApplicationShutdown {
  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.registry.providers().values()].map(async (p) => p.backend.close?.()));
  }
}
