import { UnknownModelError } from '../common/errors/api-error.js';
import type { ModelBackend } from './model-backend.js';
import { type Checkpoint, isCheckpointName, parseCheckpoint } from './checkpoint-name.js';
import type { CheckpointVersions } from './checkpoints/checkpoint-versions.js';
import type { TrainingFields } from './checkpoints/training-body.js';

/** How a provider is retried and cooled down. */
export interface RetryPolicy {
  maxRetries: number;
  retryBackoffMs: number;
  cooldownAfterFailures: number;
  cooldownMs: number;
}

export const NO_RETRIES: RetryPolicy = { maxRetries: 0, retryBackoffMs: 0, cooldownAfterFailures: Number.POSITIVE_INFINITY, cooldownMs: 0 };

/** A provider as the router sees it. */
export interface ProviderEntry {
  name: string;
  backend: ModelBackend;
  policy: RetryPolicy;
  /** The provider loads trained checkpoints as adapters: a model in a checkpoint's form names one. */
  loadsAdapters?: boolean;
  /** What a trainable route asks this provider for; all of it when unset. */
  training?: TrainingFields;
  /** Makes a checkpoint name without a pinned version concrete; unset, such a name loads `latest` as it is. */
  versions?: CheckpointVersions;
}

/** A configured model name and where it is served. */
export interface ModelRoute {
  /** What clients send as `model`; a trailing `*` matches any rest. */
  name: string;
  /** Where it is served, with weights; one target for the `provider`/`model` shorthand. */
  targets: { provider: string; model?: string; weight: number }[];
  /** Model names tried in order when every try of this one failed. */
  fallbacks?: string[];
  /** The matched rest names a trained checkpoint, loaded as a LoRA adapter. */
  adapter?: boolean;
  /** Replies carry what an RL trainer needs (logprobs, token ids, usage), whatever the client asked. */
  trainable?: boolean;
}

/** One place a request can go. */
export interface ResolvedTarget {
  provider: ProviderEntry;
  /** The model name the provider is asked for. */
  model: string;
  weight: number;
  /** `model` is a checkpoint to load as a LoRA adapter. */
  adapter: boolean;
  /** The checkpoint `model` names, for an adapter target. */
  checkpoint?: Checkpoint;
}

/** A model name resolved to where it can be served. */
export interface ResolvedModel {
  requestedModel: string;
  /** The configured name that matched (the route's name, wildcard included). */
  routeName: string;
  targets: ResolvedTarget[];
  fallbacks: string[];
  /** The route is trainable (see {@link ModelRoute.trainable}). */
  trainable: boolean;
}

/** Resolves model names to targets: exact names first, then the longest matching wildcard. */
export class ModelRegistry {
  private readonly exact = new Map<string, ModelRoute>();
  private readonly wildcards: ModelRoute[];
  /** Adapter routes named `scheme:///*` also answer `scheme://…` (W&B's docs write both), by that prefix. */
  private readonly aliases: { prefix: string; route: ModelRoute }[];

  constructor(
    private readonly providerEntries: ReadonlyMap<string, ProviderEntry>,
    private readonly routes: readonly ModelRoute[],
  ) {
    for (const route of routes) {
      for (const t of route.targets) if (!providerEntries.has(t.provider)) throw new Error(`model '${route.name}' names unknown provider '${t.provider}'`);
      if (!route.name.endsWith('*')) this.exact.set(route.name, route);
    }
    this.wildcards = routes.filter((r) => r.name.endsWith('*')).sort((a, b) => b.name.length - a.name.length);
    this.aliases = this.wildcards.filter((r) => r.adapter && r.name.endsWith(':///*')).map((route) => ({ prefix: route.name.slice(0, -2), route }));
  }

  resolve(requestedModel: string): ResolvedModel {
    const match = this.match(requestedModel);
    if (!match) throw new UnknownModelError(requestedModel);
    return this.toResolved(requestedModel, match.route, match.rest);
  }

  /** The name in the form its route is configured in (`scheme:///…` for `scheme://…`); the name itself otherwise. */
  canonicalName(requestedModel: string): string {
    const match = this.match(requestedModel);
    return match?.alias ? `${match.route.name.slice(0, -1)}${match.rest}` : requestedModel;
  }

  /** The configured model names, as `GET /v1/models` lists them. */
  names(): string[] {
    return this.routes.map((r) => r.name);
  }

  /** The provider serving a configured name (what `owned_by` shows). */
  ownerOf(name: string): string {
    return this.routes.find((r) => r.name === name)?.targets[0]?.provider ?? 'unknown';
  }

  /** Every provider by name (for health checks and shutdown). */
  providers(): ReadonlyMap<string, ProviderEntry> {
    return this.providerEntries;
  }

  /**
   * When a pass-through name reaches a trained checkpoint (a provider that loads adapters, asked for
   * a model in a checkpoint's form), the names under which clients ask for that checkpoint: access
   * is decided on those, not only on the name asked for. Undefined when the target serves no checkpoint
   * by pass-through; empty when no route serves it as one.
   */
  checkpointNames(target: ResolvedTarget): string[] | undefined {
    if (target.adapter || !target.provider.loadsAdapters || !isCheckpointName(target.model)) return undefined;
    const id = parseCheckpoint(target.model, target.model).id;
    return this.routes.filter((r) => r.adapter && r.targets.some((t) => t.provider === target.provider.name)).map((r) => `${r.name.slice(0, -1)}${id}`);
  }

  /** Loaded checkpoints, by the name clients use (the adapter route's prefix and the adapter's id). */
  loadedCheckpoints(): { id: string; provider: string }[] {
    const out: { id: string; provider: string }[] = [];
    for (const route of this.routes) {
      if (!route.adapter) continue;
      const prefix = route.name.slice(0, -1);
      for (const t of route.targets) {
        for (const id of this.providerEntries.get(t.provider)!.backend.loadedModels?.() ?? []) out.push({ id: `${prefix}${id}`, provider: t.provider });
      }
    }
    return out;
  }

  /** The route a name reaches, and what the route's model is (the wildcard's rest); `alias` when reached in the `scheme://…` form. */
  private match(requestedModel: string): { route: ModelRoute; rest: string; alias?: true } | undefined {
    const route = this.exact.get(requestedModel);
    if (route) return { route, rest: route.name };
    for (const w of this.wildcards) {
      const prefix = w.name.slice(0, -1);
      if (requestedModel.startsWith(prefix) && requestedModel.length > prefix.length) return { route: w, rest: requestedModel.slice(prefix.length) };
    }
    for (const { prefix, route: w } of this.aliases) {
      if (requestedModel.startsWith(prefix) && requestedModel.length > prefix.length && requestedModel[prefix.length] !== '/') {
        return { route: w, rest: requestedModel.slice(prefix.length), alias: true };
      }
    }
    return undefined;
  }

  private toResolved(requestedModel: string, route: ModelRoute, defaultModel: string): ResolvedModel {
    const checkpoint = route.adapter ? parseCheckpoint(defaultModel, requestedModel) : undefined;
    const model = checkpoint?.id ?? defaultModel;
    return {
      requestedModel,
      routeName: route.name,
      targets: route.targets.map((t) => ({
        provider: this.providerEntries.get(t.provider)!,
        model: checkpoint ? model : (t.model ?? model),
        weight: t.weight,
        adapter: route.adapter === true,
        ...(checkpoint && { checkpoint }),
      })),
      fallbacks: route.fallbacks ?? [],
      trainable: route.trainable === true,
    };
  }
}
