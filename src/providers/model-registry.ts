import { UnknownModelError } from '../common/errors/api-error.js';
import type { ModelBackend } from './model-backend.js';

/** A configured model name and where it is served. */
export interface ModelRoute {
  /** What clients send as `model`; a trailing `*` matches any rest. */
  name: string;
  provider: string;
  /** What the provider is asked for; defaults to the name (for wildcards: the matched rest). */
  model?: string;
}

/** A model name resolved to the backend that serves it. */
export interface ResolvedModel {
  requestedModel: string;
  provider: string;
  backend: ModelBackend;
  model: string;
}

/** Resolves model names to backends: exact names first, then the longest matching wildcard. */
export class ModelRegistry {
  private readonly exact = new Map<string, ModelRoute>();
  private readonly wildcards: ModelRoute[];

  constructor(
    private readonly backends: ReadonlyMap<string, ModelBackend>,
    routes: readonly ModelRoute[],
  ) {
    for (const route of routes) {
      if (!backends.has(route.provider)) throw new Error(`model '${route.name}' names unknown provider '${route.provider}'`);
      if (!route.name.endsWith('*')) this.exact.set(route.name, route);
    }
    this.wildcards = routes.filter((r) => r.name.endsWith('*')).sort((a, b) => b.name.length - a.name.length);
  }

  resolve(requestedModel: string): ResolvedModel {
    const route = this.exact.get(requestedModel);
    if (route) return this.toResolved(requestedModel, route, route.model ?? route.name);
    for (const w of this.wildcards) {
      const prefix = w.name.slice(0, -1);
      if (requestedModel.startsWith(prefix) && requestedModel.length > prefix.length) {
        return this.toResolved(requestedModel, w, w.model ?? requestedModel.slice(prefix.length));
      }
    }
    throw new UnknownModelError(requestedModel);
  }

  /** The configured model names, as `GET /v1/models` lists them. */
  names(): string[] {
    return [...this.exact.keys(), ...this.wildcards.map((w) => w.name)];
  }

  /** The provider serving a configured name (what `owned_by` shows). */
  ownerOf(name: string): string {
    return (this.exact.get(name) ?? this.wildcards.find((w) => w.name === name))?.provider ?? 'unknown';
  }

  /** Every backend by provider name (for health checks and shutdown). */
  providers(): ReadonlyMap<string, ModelBackend> {
    return this.backends;
  }

  private toResolved(requestedModel: string, route: ModelRoute, model: string): ResolvedModel {
    return { requestedModel, provider: route.provider, backend: this.backends.get(route.provider)!, model };
  }
}
