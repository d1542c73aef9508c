import { OverloadedError } from '../../common/errors/api-error.js';

interface Waiter<T> {
  resolve(item: T): void;
  reject(reason: unknown): void;
  signal: AbortSignal;
  onAbort(): void;
}

/**
 * Lends a fixed set of items (context sequences) to one request each. Requests beyond them wait
 * in a bounded FIFO; a full queue answers `OverloadedError`, and an aborted waiter leaves the queue.
 */
export class SequencePool<T> {
  private readonly free: T[];
  private readonly waiting: Waiter<T>[] = [];
  private closed: Error | null = null;

  constructor(
    items: readonly T[],
    private readonly maxQueue: number,
    private readonly retryAfterSeconds = 1,
  ) {
    this.free = [...items];
  }

  get queued(): number {
    return this.waiting.length;
  }

  get idle(): number {
    return this.free.length;
  }

  acquire(signal: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    if (signal.aborted) return Promise.reject(signal.reason);
    const item = this.free.pop();
    if (item !== undefined) return Promise.resolve(item);
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(
        new OverloadedError(`The local model is busy: ${this.waiting.length} requests are already waiting. Retry shortly.`, this.retryAfterSeconds),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(item: T): void {
    const next = this.waiting.shift();
    if (!next) {
      this.free.push(item);
      return;
    }
    next.signal.removeEventListener('abort', next.onAbort);
    next.resolve(item);
  }

  /** Rejects every waiter with `reason` and refuses new requests. */
  close(reason: Error): void {
    this.closed = reason;
    for (const w of this.waiting.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.reject(reason);
    }
  }
}
