import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import type { Checkpoint } from '../checkpoint-name.js';
import type { UpstreamTarget } from '../http/upstream-pool.js';
import { untilAborted } from '../checkpoints/until-aborted.js';
import type { RouterEvents } from '../router-events.js';
import { AdapterApi } from './adapter-api.js';
import type { AdapterConfig } from './openai-compatible.config.js';

interface Loaded {
  inFlight: number;
}

/** A loaded adapter in use by one request; `release()` when the request is done. */
export interface AdapterLease {
  loraName: string;
  release(): void;
}

/** The adapters of one target, as the backend uses them: in this process ({@link LoraAdapters}) or shared by replicas through Redis. */
export interface Adapters {
  /** Whether the adapter is loaded (as far as this replica knows). */
  holds(id: string): boolean;
  /** Adapter ids loaded now. */
  list(): string[];
  /** The checkpoint loaded (loading it first when needed) and held for one request. */
  acquire(checkpoint: Checkpoint, signal: AbortSignal): Promise<AdapterLease>;
  /** The target answered that it does not have this adapter: it restarted, or unloaded it itself. */
  forget(id: string): void;
  close?(): Promise<void>;
}

const CAPACITY_RETRY_AFTER_SECONDS = 1;

/** The 503 for a target whose every adapter slot is in use. */
export function capacityError(provider: string, maxLoaded: number): ApiError {
  const message = `All ${maxLoaded} adapter slots of '${provider}' are in use; try again shortly.`;
  return new ApiError({ status: 503, message, code: ERROR_CODES.adapterCapacity, headers: { 'retry-after': String(CAPACITY_RETRY_AFTER_SECONDS) } });
}

/**
 * The LoRA adapters loaded on one vLLM target: loads on first use (one load however many requests
 * wait for it), keeps at most `maxLoaded` by unloading the least recently used idle adapter, and
 * forgets an adapter the target no longer has (it restarted).
 */
export class LoraAdapters implements Adapters {
  /** Loaded adapters, least recently used first. */
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Unloads sent and not answered yet: those adapters still take room upstream. */
  private unloading = 0;
  private readonly api: AdapterApi;

  constructor(
    private readonly provider: string,
    target: UpstreamTarget,
    headers: Record<string, string>,
    private readonly settings: AdapterConfig,
    private readonly events: RouterEvents,
    secrets: readonly string[] = [],
  ) {
    this.api = new AdapterApi(provider, target, headers, settings, secrets);
  }

  holds(id: string): boolean {
    return this.loaded.has(id);
  }

  /** Adapter ids loaded now. */
  list(): string[] {
    return [...this.loaded.keys()];
  }

  async acquire(checkpoint: Checkpoint, signal: AbortSignal): Promise<AdapterLease> {
    const id = checkpoint.id;
    let entry = this.loaded.get(id);
    if (entry) this.events.adapterHit(this.provider, id);
    while (!entry) {
      signal.throwIfAborted();
      await untilAborted(this.loading.get(id) ?? this.startLoad(checkpoint), signal);
      entry = this.loaded.get(id);
    }
    this.loaded.delete(id);
    this.loaded.set(id, entry);
    entry.inFlight++;
    let released = false;
    return {
      loraName: id,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.inFlight === 0 && this.loaded.size > this.settings.maxLoaded) void this.trim();
      },
    };
  }

  /** The target answered that it does not have this adapter: it restarted, or unloaded it itself. */
  forget(id: string): void {
    this.loaded.delete(id);
  }

  /** Starts a load if there is room for one more adapter, or room once an idle one is unloaded after it. */
  private startLoad(checkpoint: Checkpoint): Promise<void> {
    const used = this.loaded.size + this.loading.size + this.unloading;
    const max = this.settings.maxLoaded;
    if (used > max || (used === max && ![...this.loaded.values()].some((e) => e.inFlight === 0))) throw capacityError(this.provider, max);
    const load = this.load(checkpoint);
    this.loading.set(checkpoint.id, load);
    // Every waiter may have left; the outcome still matters to the next request, the rejection to no one.
    load.catch(() => undefined);
    return load;
  }

  private async load(c: Checkpoint): Promise<void> {
    const started = performance.now();
    try {
      await this.api.load(c);
    } finally {
      this.loading.delete(c.id);
    }
    this.loaded.set(c.id, { inFlight: 0 });
    this.events.adapterLoaded(this.provider, c.id, (performance.now() - started) / 1000);
    await this.trim(c.id);
  }

  /** Unloads least recently used idle adapters (never `keep`) until at most `maxLoaded` are loaded; loads in progress evict nothing yet. */
  private async trim(keep?: string): Promise<void> {
    const unloads: Promise<void>[] = [];
    for (const [id, entry] of this.loaded) {
      if (this.loaded.size <= this.settings.maxLoaded) break;
      if (entry.inFlight > 0 || id === keep) continue;
      this.loaded.delete(id);
      this.unloading++;
      unloads.push(
        this.api.unload(id).finally(() => {
          this.unloading--;
          this.events.adapterUnloaded(this.provider, id);
        }),
      );
    }
    await Promise.all(unloads);
  }
}
