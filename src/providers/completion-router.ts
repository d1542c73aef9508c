import { UpstreamError } from '../common/errors/api-error.js';
import { afterFailedAttempt, errorKind, finalError, isFallbackWorthy } from '../common/errors/upstream-error-policy.js';
import type { BackendRequest, ChunkFrame, CompletionFrame, RequestBody } from './model-backend.js';
import type { ModelRegistry, ResolvedModel, ResolvedTarget } from './model-registry.js';
import type { RouterEvents } from './router-events.js';
import { TargetHealth } from './target-health.js';

const MAX_BACKOFF_MS = 10_000;

/** Whether the caller may be served by a model (a fallback the key may not use is passed over). */
export type MayUse = (model: ResolvedModel) => boolean;
const ANY: MayUse = () => true;

/** What a try of one target produced, with the target that produced it. */
interface Tried<T> {
  value: T;
  target: ResolvedTarget;
}

/** A reply, and the provider whose answer it is. */
export interface RoutedCompletion {
  frame: CompletionFrame;
  provider: string;
}

/** An open stream (its first chunk already there), and the provider it comes from. */
export interface RoutedStream {
  frames: AsyncIterator<ChunkFrame>;
  provider: string;
}

/**
 * Runs a request against a resolved model: weighted targets, retries with exponential backoff and
 * jitter (honouring Retry-After), cool-down of failing targets, then fallbacks in order.
 * A stream is retried only until its first chunk arrives; after that a failure is the client's to see.
 */
export class CompletionRouter {
  readonly health = new TargetHealth();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly events: RouterEvents,
  ) {}

  async complete(model: ResolvedModel, body: RequestBody, signal: AbortSignal, mayUse: MayUse = ANY): Promise<RoutedCompletion> {
    const { value, target } = await this.run(model, signal, mayUse, (target) => target.provider.backend.complete(this.request(model, target, body), signal));
    return { frame: value, provider: target.provider.name };
  }

  /**
   * Opens a stream: retries and fallbacks happen here, until a target yields its first chunk. The
   * iterator returned hands that chunk over, then reads the backend's own iterator directly.
   */
  async openStream(model: ResolvedModel, body: RequestBody, signal: AbortSignal, mayUse: MayUse = ANY): Promise<RoutedStream> {
    const { value, target } = await this.run(model, signal, mayUse, async (target) => {
      const iterator = target.provider.backend.stream(this.request(model, target, body), signal)[Symbol.asyncIterator]();
      try {
        return { iterator, first: await iterator.next() };
      } catch (err) {
        await iterator.return?.().catch(() => undefined);
        throw err;
      }
    });
    return { frames: startingWith(value.first, value.iterator), provider: target.provider.name };
  }

  private request(model: ResolvedModel, target: ResolvedTarget, body: RequestBody): BackendRequest {
    return { body, requestedModel: model.requestedModel, model: target.model, adapter: target.adapter || undefined };
  }

  private async run<T>(model: ResolvedModel, signal: AbortSignal, mayUse: MayUse, attempt: (target: ResolvedTarget) => Promise<T>): Promise<Tried<T>> {
    const fallbacks = model.fallbacks.values();
    let current = model;
    let lastError: unknown;
    for (;;) {
      const outcome = await this.tryModel(current, signal, attempt);
      if ('value' in outcome) return outcome;
      lastError = outcome.error;
      if (!isFallbackWorthy(lastError)) break;
      const next = this.nextFallback(fallbacks, model.requestedModel, mayUse);
      if (!next) break;
      this.events.fallback(current.routeName, next.routeName);
      current = next;
    }
    throw finalError(lastError);
  }

  /** The next fallback the caller may use, resolved only when it is needed; one it may not use is passed over. */
  private nextFallback(names: Iterator<string>, requestedModel: string, mayUse: MayUse): ResolvedModel | undefined {
    for (let name = names.next(); !name.done; name = names.next()) {
      const candidate = this.registry.resolve(name.value);
      if (mayUse(candidate)) return { ...candidate, requestedModel };
    }
    return undefined;
  }

  private async tryModel<T>(model: ResolvedModel, signal: AbortSignal, attempt: (target: ResolvedTarget) => Promise<T>): Promise<Tried<T> | { error: unknown }> {
    const { targets } = model;
    const maxRetries = targets.length === 1 ? targets[0].provider.policy.maxRetries : Math.max(...targets.map((t) => t.provider.policy.maxRetries));
    const tried = new Set<ResolvedTarget>();
    let error: unknown;
    for (let n = 0; n <= maxRetries; n++) {
      const target = this.health.pick(model.targets, tried);
      tried.add(target);
      try {
        const value = await attempt(target);
        this.health.succeeded(target);
        return { value, target };
      } catch (err) {
        if (signal.aborted) throw err;
        error = err;
        const decision = afterFailedAttempt(err);
        if (decision === 'other_target') {
          if (tried.size < targets.length) continue;
          return { error };
        }
        this.events.upstreamError(target.provider.name, errorKind(err));
        if (decision === 'stop') {
          if (isFallbackWorthy(err)) this.health.failed(target);
          return { error };
        }
        this.health.failed(target);
        if (n === maxRetries) break;
        this.events.retry(target.provider.name, errorKind(err));
        await sleep(backoff(n, target.provider.policy.retryBackoffMs, err instanceof UpstreamError ? err.retryAfterMs : undefined), signal);
      }
    }
    return { error };
  }
}

/** `rest`, with `first` (already read from it) handed out before it; ending it early never throws. */
function startingWith<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterator<T> {
  let pending: IteratorResult<T> | undefined = first;
  return {
    next: () => {
      if (!pending) return rest.next();
      const r = pending;
      pending = undefined;
      return Promise.resolve(r);
    },
    return: async (value?: unknown) => {
      await rest.return?.(value).catch(() => undefined);
      return { done: true, value: undefined };
    },
  };
}

/** Exponential backoff with full jitter; an upstream's Retry-After wins when it asks for longer. */
export function backoff(retry: number, baseMs: number, retryAfterMs?: number): number {
  const exp = Math.min(baseMs * 2 ** retry, MAX_BACKOFF_MS);
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), MAX_BACKOFF_MS);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
