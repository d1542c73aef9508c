import { ApiError, UpstreamError } from '../common/errors/api-error.js';
import { ERROR_CODES } from '../common/errors/error-codes.js';
import { afterFailedAttempt, errorKind, finalError, isFallbackWorthy } from '../common/errors/upstream-error-policy.js';
import { withVersion } from './checkpoint-name.js';
import { ALL_TRAINING_FIELDS, trainingBody } from './checkpoints/training-body.js';
import { untilAborted } from './checkpoints/until-aborted.js';
import type { BackendRequest, ChunkFrame, CompletionFrame, RequestBody } from './model-backend.js';
import type { ModelRegistry, ResolvedModel, ResolvedTarget } from './model-registry.js';
import type { RouterEvents } from './router-events.js';
import { TargetHealth } from './target-health.js';

const MAX_BACKOFF_MS = 10_000;

/** Whether the caller may be served by a model (a fallback the key may not use is passed over). */
export type MayUse = (model: ResolvedModel) => boolean;
const ANY: MayUse = () => true;

/** What a try of one target produced, with the target that produced it and what it was asked. */
interface Tried<T> {
  value: T;
  target: ResolvedTarget;
  /** The checkpoint version that served, for an adapter target. */
  checkpointVersion?: string;
}

/** A reply, and the provider whose answer it is. */
export interface RoutedCompletion {
  frame: CompletionFrame;
  provider: string;
  /** The concrete checkpoint version that served it (`step42`), when the model is a trained checkpoint. */
  checkpointVersion?: string;
}

/** An open stream (its first chunk already there), and the provider it comes from. */
export interface RoutedStream {
  frames: AsyncIterator<ChunkFrame>;
  provider: string;
  /** As {@link RoutedCompletion.checkpointVersion}. */
  checkpointVersion?: string;
}

/** Runs a request on a target's backend. */
type Attempt<T> = (target: ResolvedTarget, request: BackendRequest) => Promise<T>;

/** The upstream does not have (or cannot load) a checkpoint version: the version may have moved on. */
function isCheckpointMissing(err: unknown): boolean {
  return err instanceof ApiError && (err.code === ERROR_CODES.adapterUnavailable || (err.status === 404 && err.code === ERROR_CODES.modelNotFound));
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
    const { value, target, checkpointVersion } = await this.run(model, body, signal, mayUse, (target, request) =>
      target.provider.backend.complete(request, signal),
    );
    return { frame: value, provider: target.provider.name, checkpointVersion };
  }

  /**
   * Opens a stream: retries and fallbacks happen here, until a target yields its first chunk. The
   * iterator returned hands that chunk over, then reads the backend's own iterator directly.
   */
  async openStream(model: ResolvedModel, body: RequestBody, signal: AbortSignal, mayUse: MayUse = ANY): Promise<RoutedStream> {
    const { value, target, checkpointVersion } = await this.run(model, body, signal, mayUse, async (target, request) => {
      const iterator = target.provider.backend.stream(request, signal)[Symbol.asyncIterator]();
      try {
        return { iterator, first: await iterator.next() };
      } catch (err) {
        await iterator.return?.().catch(() => undefined);
        throw err;
      }
    });
    return { frames: startingWith(value.first, value.iterator), provider: target.provider.name, checkpointVersion };
  }

  /**
   * One try of one target: the body a trainable route sends, and for a checkpoint name without a
   * pinned version, the version its resolver names. When the upstream does not have that version
   * (or cannot load it), the resolver is asked again, and a different answer is tried once.
   */
  private async tryTarget<T>(model: ResolvedModel, target: ResolvedTarget, body: RequestBody, signal: AbortSignal, attempt: Attempt<T>): Promise<Tried<T>> {
    const training = model.trainable ? trainingBody(body, target.provider.training ?? ALL_TRAINING_FIELDS) : undefined;
    const request: BackendRequest = {
      body: training?.body ?? body,
      requestedModel: model.requestedModel,
      model: target.model,
      adapter: target.adapter || undefined,
    };
    const checkpoint = target.adapter ? target.checkpoint : undefined;
    const versions = checkpoint && !checkpoint.pinned ? target.provider.versions : undefined;
    if (!checkpoint || !versions) return { value: await attempt(target, request), target, checkpointVersion: checkpoint?.version };
    let version = await untilAborted(versions.version(checkpoint), signal);
    try {
      return { value: await attempt(target, { ...request, model: withVersion(checkpoint, version).id }), target, checkpointVersion: version };
    } catch (err) {
      if (signal.aborted || !isCheckpointMissing(err)) throw err;
      const fresh = await untilAborted(versions.refresh(checkpoint, version), signal);
      if (fresh === version) throw err;
      version = fresh;
    }
    return { value: await attempt(target, { ...request, model: withVersion(checkpoint, version).id }), target, checkpointVersion: version };
  }

  private async run<T>(model: ResolvedModel, body: RequestBody, signal: AbortSignal, mayUse: MayUse, attempt: Attempt<T>): Promise<Tried<T>> {
    const fallbacks = model.fallbacks.values();
    let current = model;
    let lastError: unknown;
    for (;;) {
      const outcome = await this.tryModel(current, body, signal, attempt);
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

  private async tryModel<T>(model: ResolvedModel, body: RequestBody, signal: AbortSignal, attempt: Attempt<T>): Promise<Tried<T> | { error: unknown }> {
    const { targets } = model;
    const maxRetries = targets.length === 1 ? targets[0].provider.policy.maxRetries : Math.max(...targets.map((t) => t.provider.policy.maxRetries));
    const tried = new Set<ResolvedTarget>();
    let error: unknown;
    for (let n = 0; n <= maxRetries; n++) {
      const target = this.health.pick(model.targets, tried);
      tried.add(target);
      try {
        const tried = await this.tryTarget(model, target, body, signal, attempt);
        this.health.succeeded(target);
        return tried;
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
