import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { EchoBackend } from './echo/echo.backend.js';
import type { ModelBackend } from './model-backend.js';
import { ModelRegistry } from './model-registry.js';

/** The built-in configuration: the embedded `echo` backend serving model `echo`. */
function defaultRegistry(): ModelRegistry {
  const backends = new Map<string, ModelBackend>([['echo', new EchoBackend()]]);
  return new ModelRegistry(backends, [{ name: 'echo', provider: 'echo' }]);
}

@Module({
  providers: [{ provide: ModelRegistry, useFactory: defaultRegistry }],
  exports: [ModelRegistry],
})
export class ProvidersModule implements OnApplicationShutdown {
  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.registry.providers().values()].map((b) => b.close?.()));
  }
}
