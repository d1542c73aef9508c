import { performance } from 'node:perf_hooks';
import { DeadlineExceeded } from './upstream-errors.js';

/**
 * A provider's `timeoutMs` on one upstream request, with no AbortController or timer of its own
 * on the way to the headers: undici's per-request `headersTimeout` and `bodyTimeout` bound the
 * silence before the headers and between reads (for a stream, the silence between chunks). A
 * whole-reply deadline (non-streamed) also bounds the body: `bound(body)` destroys it with
 * DeadlineExceeded when what is left of the time passes. 0 means no deadline.
 */
export class Deadline {
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** undici request options. */
  get timeouts(): { headersTimeout: number; bodyTimeout: number } {
    return { headersTimeout: this.ms, bodyTimeout: this.ms };
  }

  /** Bounds the rest of a reply's body to what is left of the whole-reply deadline. */
  bound(body: { destroy(err?: Error): unknown }): void {
    if (this.ms <= 0) return;
    const left = Math.max(0, this.started + this.ms - performance.now());
    this.timer = setTimeout(() => body.destroy(new DeadlineExceeded()), left);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
