import { performance } from 'node:perf_hooks';
import { DeadlineExceeded } from './upstream-errors.js';

/** A body a deadline can end. */
export interface Destroyable {
  destroy(err?: Error): unknown;
}

/** A streamed body a deadline watches (an UpstreamCall). */
export interface WatchedStream extends Destroyable {
  /** True while its reader waits for the upstream: a silence then is the upstream's, not a slow client's. */
  readonly waitingForUpstream: boolean;
}

/**
 * A provider's `timeoutMs` on one upstream request. Up to the headers it is undici's per-request
 * `headersTimeout` (no AbortController or timer of ours); after them one timer of its own:
 * - `bound(body)`, a reply read whole (or an error body): what is left of the time since the request
 *   started;
 * - `watch(stream)`, then `beat()` on each data event: the longest silence between data events.
 *   Bytes that complete none (SSE comments, blank lines, events without data, an event trickled
 *   in byte by byte) do not count, nor does time the reader spends away from the stream (a slow
 *   client). undici's `bodyTimeout` is off: any byte would reset it.
 * When it passes the body is destroyed with DeadlineExceeded. 0 means no deadline.
 */
export class Deadline {
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private stream: WatchedStream | undefined;
  private lastEvent = 0;

  constructor(private readonly ms: number) {}

  /** undici request options. */
  get timeouts(): { headersTimeout: number; bodyTimeout: number } {
    return { headersTimeout: this.ms, bodyTimeout: 0 };
  }

  /** Bounds the rest of a body to what is left of the whole-reply deadline. */
  bound(body: Destroyable): void {
    if (this.ms <= 0) return;
    clearTimeout(this.timer);
    const left = Math.max(0, this.started + this.ms - performance.now());
    this.timer = setTimeout(() => body.destroy(new DeadlineExceeded()), left);
  }

  /** Ends `stream` when no data event comes within the deadline, counted from now. */
  watch(stream: WatchedStream): void {
    if (this.ms <= 0) return;
    clearTimeout(this.timer);
    this.stream = stream;
    this.lastEvent = performance.now();
    this.timer = setTimeout(Deadline.check, this.ms, this);
  }

  /** A data event arrived. Per event on the hot path, so only a time is noted; the timer looks at it when it fires. */
  beat(): void {
    this.lastEvent = performance.now();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.stream = undefined;
  }

  private static check(self: Deadline): void {
    const stream = self.stream;
    if (!stream) return;
    const now = performance.now();
    if (!stream.waitingForUpstream) self.lastEvent = now;
    const left = self.lastEvent + self.ms - now;
    if (left > 0) self.timer = setTimeout(Deadline.check, left, self);
    else stream.destroy(new DeadlineExceeded());
  }
}
