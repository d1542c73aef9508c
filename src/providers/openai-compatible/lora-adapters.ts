import { ApiError, UpstreamError } from '../../common/errors/api-error.js';
import { readText } from '../http/read-body.js';
import { upstreamErrorFromResponse } from '../http/upstream-errors.js';
import type { UpstreamTarget } from '../http/upstream-pool.js';
import type { RouterEvents } from '../router-events.js';
import { adapterPath, type Checkpoint } from './checkpoint-name.js';

export interface AdapterSettings {
  /** `lora_path` template with {entity}, {project}, {name}, {version}. */
  path: string;
  /** Adapters kept loaded on this target; beyond it the least recently used idle one is unloaded. */
  maxLoaded: number;
}

interface Loaded {
  inFlight: number;
}

/** A loaded adapter in use by one request; `release()` when the request is done. */
export interface AdapterLease {
  loraName: string;
  release(): void;
}

/**
 * The LoRA adapters loaded on one vLLM target: loads on first use (one load however many requests
 * wait for it), unloads the least recently used idle adapter beyond `maxLoaded`, and forgets an
 * adapter the target no longer has (it restarted).
 */
export class LoraAdapters {
  /** Loaded adapters, least recently used first. */
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly provider: string,
    private readonly target: UpstreamTarget,
    private readonly headers: Record<string, string>,
    private readonly settings: AdapterSettings,
    private readonly events: RouterEvents,
    private readonly secrets: readonly string[] = [],
  ) {}

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
      const pending = this.loading.get(id) ?? this.startLoad(checkpoint);
      await pending;
      signal.throwIfAborted();
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
        entry.inFlight--;
      },
    };
  }

  /** The target answered that it does not have this adapter: it restarted, or unloaded it itself. */
  forget(id: string): void {
    this.loaded.delete(id);
  }

  private startLoad(checkpoint: Checkpoint): Promise<void> {
    const load = this.load(checkpoint).finally(() => this.loading.delete(checkpoint.id));
    this.loading.set(checkpoint.id, load);
    return load;
  }

  private async load(c: Checkpoint): Promise<void> {
    await this.makeRoom();
    const started = performance.now();
    const res = await this.post('/load_lora_adapter', { lora_name: c.id, lora_path: adapterPath(this.settings.path, c) });
    const text = (await readText(res.body, 64 * 1024)).text;
    if (res.statusCode >= 400 && !(res.statusCode === 400 && /already (been )?loaded/i.test(text))) {
      const err = upstreamErrorFromResponse(this.provider, res.statusCode, res.headers, text, this.secrets);
      if (res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429) {
        throw new ApiError(404, `The checkpoint '${c.id}' could not be loaded: ${err.message}`, 'invalid_request_error', 'model_not_found', 'model');
      }
      throw err;
    }
    this.loaded.set(c.id, { inFlight: 0 });
    this.events.adapterLoaded(this.provider, c.id, (performance.now() - started) / 1000);
  }

  /** Unloads least recently used idle adapters until one more fits (never one with requests in flight). */
  private async makeRoom(): Promise<void> {
    for (const [id, entry] of this.loaded) {
      if (this.loaded.size < this.settings.maxLoaded) return;
      if (entry.inFlight > 0) continue;
      this.loaded.delete(id);
      // An unload that fails leaves the adapter loaded upstream; it is only memory there, so serving goes on.
      await this.post('/unload_lora_adapter', { lora_name: id }).then((res) => res.body.dump(), () => undefined);
      this.events.adapterUnloaded(this.provider, id);
    }
  }

  private post(path: string, body: unknown) {
    return this.target.pool.request({ method: 'POST', path: `${this.target.basePath}${path}`, headers: this.headers, body: JSON.stringify(body) }).catch((err: unknown) => {
      throw new UpstreamError(this.provider, 502, `The upstream '${this.provider}' could not be reached to manage adapters (${(err as { code?: string }).code ?? 'error'}).`, true, undefined, undefined, 'upstream_unavailable');
    });
  }
}
