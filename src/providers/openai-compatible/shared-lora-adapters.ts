import { Logger } from '@nestjs/common';
import type { Checkpoint } from '../checkpoint-name.js';
import type { RedisAdapterState } from '../checkpoints/redis-adapter-state.js';
import { untilAborted } from '../checkpoints/until-aborted.js';
import type { RouterEvents } from '../router-events.js';
import type { AdapterApi } from './adapter-api.js';
import { capacityError, type AdapterLease, type Adapters } from './lora-adapters.js';

/** This replica's requests on one adapter; `confirmed` while its lease in Redis stands. */
interface Held {
  count: number;
  confirmed: boolean;
}

const POLL_MS = 25;

/**
 * The LoRA adapters of one vLLM target shared by several replicas through Redis: one load however
 * many replicas ask at once, never an unload of an adapter any replica uses, `maxLoaded` for all
 * of them together. A replica talks to Redis when its first request on an adapter starts and its
 * last one ends; while it has requests in flight it renews its lease. When Redis does not answer,
 * adapters are loaded without coordination (a load of one already loaded is harmless) and none is
 * unloaded.
 */
export class SharedLoraAdapters implements Adapters {
  private readonly logger: Logger;
  private readonly held = new Map<string, Held>();
  private readonly obtaining = new Map<string, Promise<void>>();
  /** Loaded as Redis last said. */
  private known = new Set<string>();
  private readonly renewal: NodeJS.Timeout;
  private redisDown = false;

  constructor(
    private readonly provider: string,
    private readonly api: AdapterApi,
    private readonly state: RedisAdapterState,
    private readonly events: RouterEvents,
  ) {
    this.logger = new Logger(`SharedLoraAdapters(${provider})`);
    this.renewal = setInterval(() => void this.renew(), Math.max(Math.floor(state.times.leaseMs / 3), 10));
    this.renewal.unref();
  }

  holds(id: string): boolean {
    return this.known.has(id);
  }

  list(): string[] {
    return [...this.known];
  }

  async acquire(checkpoint: Checkpoint, signal: AbortSignal): Promise<AdapterLease> {
    const id = checkpoint.id;
    for (;;) {
      const held = this.held.get(id);
      if (held?.confirmed) {
        held.count++;
        this.events.adapterHit(this.provider, id);
        return this.lease(id, held);
      }
      signal.throwIfAborted();
      await untilAborted(this.obtaining.get(id) ?? this.startObtaining(checkpoint), signal);
    }
  }

  forget(id: string): void {
    const held = this.held.get(id);
    if (held) held.confirmed = false;
    this.known.delete(id);
    // Sent before any later acquire on this connection, so that acquire sees the adapter as not loaded.
    this.state.forget(id).catch((err: unknown) => this.redisFailed(err));
  }

  async close(): Promise<void> {
    clearInterval(this.renewal);
    await this.state.leave([...this.held.keys()]).catch(() => undefined);
  }

  private lease(id: string, held: Held): AdapterLease {
    let released = false;
    return {
      loraName: id,
      release: () => {
        if (released) return;
        released = true;
        if (--held.count > 0 || this.held.get(id) !== held) return;
        this.held.delete(id);
        held.confirmed = false;
        this.state.release(id).then(
          (evicted) => this.unload(evicted),
          (err: unknown) => this.redisFailed(err),
        );
      },
    };
  }

  /** One replica-local acquisition per adapter at a time: its waiters share it. */
  private startObtaining(c: Checkpoint): Promise<void> {
    const obtained = this.obtain(c).finally(() => this.obtaining.delete(c.id));
    this.obtaining.set(c.id, obtained);
    obtained.catch(() => undefined);
    return obtained;
  }

  /** Leaves this replica holding a lease on the adapter, loaded: by it, by another replica, or (Redis down) without coordination. */
  private async obtain(c: Checkpoint): Promise<void> {
    for (;;) {
      let outcome;
      try {
        outcome = await this.state.acquire(c.id);
      } catch (err) {
        this.redisFailed(err);
        await this.load(c);
        break;
      }
      if (outcome === 'full') throw capacityError(this.provider, this.state.max);
      if (outcome === 'wait') {
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      if (outcome === 'load') {
        try {
          await this.load(c);
        } catch (err) {
          await this.state.unlock(c.id).catch(() => undefined);
          throw err;
        }
        const evicted = await this.state.loaded(c.id).catch((err: unknown) => (this.redisFailed(err), []));
        this.unload(evicted);
      }
      this.redisAnswered();
      break;
    }
    this.known.add(c.id);
    const held = this.held.get(c.id);
    if (held) held.confirmed = true;
    else this.held.set(c.id, { count: 0, confirmed: true });
  }

  private async load(c: Checkpoint): Promise<void> {
    const started = performance.now();
    await this.api.load(c);
    this.events.adapterLoaded(this.provider, c.id, (performance.now() - started) / 1000);
  }

  /** Unloads adapters this replica took out of the loaded set (each locked for it until done). */
  private unload(ids: string[]): void {
    for (const id of ids) {
      this.known.delete(id);
      void this.api
        .unload(id)
        .then(() => this.events.adapterUnloaded(this.provider, id))
        .then(() => this.state.unlock(id))
        .catch((err: unknown) => this.redisFailed(err));
    }
  }

  /** Renews the leases of adapters in use, lets go of those no request came for, and refreshes what is loaded. */
  private async renew(): Promise<void> {
    const inUse: string[] = [];
    for (const [id, held] of this.held) {
      if (held.count > 0) inUse.push(id);
      else if (held.confirmed && !this.obtaining.has(id)) {
        // Obtained for waiters that all left before using it.
        this.held.delete(id);
        this.state.release(id).then(
          (evicted) => this.unload(evicted),
          (err: unknown) => this.redisFailed(err),
        );
      }
    }
    try {
      this.known = new Set(await this.state.renew(inUse));
      this.redisAnswered();
    } catch (err) {
      this.redisFailed(err);
    }
  }

  private redisFailed(err: unknown): void {
    if (this.redisDown) return;
    this.redisDown = true;
    this.logger.warn(`Redis: ${(err as Error)?.message ?? err}; adapters are loaded without coordination and none is unloaded until it answers again`);
  }

  private redisAnswered(): void {
    if (!this.redisDown) return;
    this.redisDown = false;
    this.logger.log('Redis answers again: adapters are shared again');
  }
}
