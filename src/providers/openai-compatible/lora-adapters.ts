import { ApiError, UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isRetryableStatus } from '../../common/errors/upstream-error-policy.js';
import { adapterPath, type Checkpoint } from '../checkpoint-name.js';
import { readText } from '../http/read-body.js';
import { upstreamErrorFromResponse } from '../http/upstream-errors.js';
import type { UpstreamTarget } from '../http/upstream-pool.js';
import type { RouterEvents } from '../router-events.js';
import type { AdapterConfig } from './openai-compatible.config.js';

interface Loaded {
  inFlight: number;
}

/** A loaded adapter in use by one request; `release()` when the request is done. */
export interface AdapterLease {
  loraName: string;
  release(): void;
}

const CAPACITY_RETRY_AFTER_SECONDS = 1;

/**
 * The LoRA adapters loaded on one vLLM target: loads on first use (one load however many requests
 * wait for it), keeps at most `maxLoaded` by unloading the least recently used idle adapter, and
 * forgets an adapter the target no longer has (it restarted).
 */
export class LoraAdapters {
  /** Loaded adapters, least recently used first. */
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Unloads sent and not answered yet: those adapters still take room upstream. */
  private unloading = 0;

  constructor(
    private readonly provider: string,
    private readonly target: UpstreamTarget,
    private readonly headers: Record<string, string>,
    private readonly settings: AdapterConfig,
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
    if (used > max || (used === max && ![...this.loaded.values()].some((e) => e.inFlight === 0))) {
      const message = `All ${max} adapter slots of '${this.provider}' are in use; try again shortly.`;
      throw new ApiError({ status: 503, message, code: ERROR_CODES.adapterCapacity, headers: { 'retry-after': String(CAPACITY_RETRY_AFTER_SECONDS) } });
    }
    const load = this.load(checkpoint);
    this.loading.set(checkpoint.id, load);
    // Every waiter may have left; the outcome still matters to the next request, the rejection to no one.
    load.catch(() => undefined);
    return load;
  }

  private async load(c: Checkpoint): Promise<void> {
    const started = performance.now();
    let res: CallResult;
    try {
      res = await this.call('/load_lora_adapter', { lora_name: c.id, lora_path: adapterPath(this.settings.path, c) }, `load the checkpoint '${c.id}'`);
    } finally {
      this.loading.delete(c.id);
    }
    if (res.status >= 400 && !(res.status === 400 && /already (been )?loaded/i.test(res.text))) {
      const err = upstreamErrorFromResponse(this.provider, res.status, res.headers, res.text, this.secrets);
      if (!isRetryableStatus(res.status)) {
        throw new ApiError({ status: 404, message: `The checkpoint '${c.id}' could not be loaded: ${err.message}`, code: ERROR_CODES.modelNotFound, param: 'model' });
      }
      throw err;
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
      // An unload that fails leaves the adapter loaded upstream; it is only memory there, so serving goes on.
      const unload = this.call('/unload_lora_adapter', { lora_name: id }, `unload the adapter '${id}'`).then(
        () => undefined,
        () => undefined,
      );
      unloads.push(
        unload.finally(() => {
          this.unloading--;
          this.events.adapterUnloaded(this.provider, id);
        }),
      );
    }
    await Promise.all(unloads);
  }

  /** One management call under its own deadline: a load many requests wait for must not hang them all. */
  private async call(path: string, body: unknown, what: string): Promise<CallResult> {
    const ms = this.settings.loadTimeoutMs;
    const deadline = AbortSignal.timeout(ms);
    try {
      const res = await this.target.pool.request({ method: 'POST', path: `${this.target.basePath}${path}`, headers: this.headers, body: JSON.stringify(body), signal: deadline });
      return { status: res.statusCode, headers: res.headers, text: (await readText(res.body, 64 * 1024)).text };
    } catch (err) {
      if (deadline.aborted) throw new UpstreamError({ provider: this.provider, status: 504, message: `The upstream '${this.provider}' did not ${what} within ${ms} ms.`, retryable: false, code: ERROR_CODES.upstreamTimeout });
      const code = (err as { code?: string }).code ?? 'error';
      const message = `The upstream '${this.provider}' could not be reached to manage adapters (${code}).`;
      throw new UpstreamError({ provider: this.provider, status: 502, message, retryable: true, code: ERROR_CODES.upstreamUnavailable });
    }
  }
}

interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** `pending`, unless `signal` aborts first: a client that leaves stops waiting for a load others share. */
function untilAborted(pending: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
