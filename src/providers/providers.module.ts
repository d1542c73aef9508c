import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { gatewayConfig } from '../config/gateway.config.js';
import { createBackend, retryPolicy } from './backend.factory.js';
import { CompletionRouter } from './completion-router.js';
import { ModelRegistry, type ProviderEntry } from './model-registry.js';
import { ROUTER_EVENTS, type RouterEvents } from './router-events.js';

/** Builds every configured backend (loading local models) and the registry over them. */
async function registryFactory(config: ConfigType<typeof gatewayConfig>, events: RouterEvents): Promise<ModelRegistry> {
  const entries = new Map<string, ProviderEntry>();
  try {
    for (const [name, provider] of Object.entries(config.providers)) {
      entries.set(name, { name, backend: await createBackend(name, provider, events), policy: retryPolicy(provider), loadsAdapters: provider.type === 'openai' && !!provider.adapters });
    }
  } catch (err) {
    await Promise.allSettled([...entries.values()].map((e) => e.backend.close?.()));
    throw err;
  }
  const routes = config.models.map((m) => ({
    name: m.name,
    targets: m.targets ?? [{ provider: m.provider!, model: m.model, weight: 1 }],
    fallbacks: m.fallbacks,
    adapter: m.adapter,
  }));
  new Logger('Providers').log(`Serving ${routes.map((r) => r.name).join(', ')} from ${[...entries.keys()].join(', ')}`);
  return new ModelRegistry(entries, routes);
}

/** Needs ROUTER_EVENTS from a global module (metrics). */
@Module({
  imports: [ConfigModule.forFeature(gatewayConfig)],
  providers: [
    { provide: ModelRegistry, useFactory: registryFactory, inject: [gatewayConfig.KEY, ROUTER_EVENTS] },
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
    await Promise.allSettled([...this.registry.providers().values()].map((p) => p.backend.close?.()));
  }
}
