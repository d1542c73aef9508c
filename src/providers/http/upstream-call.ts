import type { Dispatcher } from 'undici';

/** How much of an unread body is held before undici is asked to stop reading the socket. */
const HIGH_WATER_BYTES = 64 * 1024;
/** After a stream's end was seen, at most this much more is read to keep the connection for the pool. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

type Headers = Record<string, string | string[] | undefined>;

/**
 * One request to an upstream over undici's `dispatch`: the body comes as the parser hands it over,
 * without a Readable stream, an async iterator or async-hooks bookkeeping per request (the hot
 * path of every streamed reply). `open` resolves at the headers; `read` (or `for await`) then gives
 * the body piece by piece (null at its end) and rejects with the transport's error (reset, timeout,
 * abort).
 * Unread data is held up to a high-water mark, then the socket is paused until it is read.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Headers = {};
  private controller: Dispatcher.DispatchController | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  /** Set once the caller has let go: what still arrives is dropped (up to the drain limit). */
  private released = false;
  private dropped = 0;
  private opened: { resolve(call: UpstreamCall): void; reject(err: Error): void } | undefined;
  private waiting: { resolve(bytes: Buffer | null): void; reject(err: Error): void } | undefined;

  private constructor(private readonly signal: AbortSignal) {}

  /**
   * Sends the request; resolves once the status and headers are in (any status: the caller
   * decides what an error answer means), rejects when it cannot be sent or `signal` aborts first.
   */
  static open(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, signal: AbortSignal): Promise<UpstreamCall> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const call = new UpstreamCall(signal);
    return new Promise((resolve, reject) => {
      call.opened = { resolve, reject };
      signal.addEventListener('abort', call.onAbort);
      dispatcher.dispatch(options, call);
    });
  }

  /** The next piece of the body, or null at its end. */
  read(): Promise<Buffer | null> {
    if (this.queue.length > 0) {
      const bytes = this.queue.shift()!;
      this.queued -= bytes.length;
      if (this.queued < HIGH_WATER_BYTES && this.controller?.paused) this.controller.resume();
      return Promise.resolve(bytes);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** A read is pending with nothing unread held: the caller waits for the upstream, not the other way round. */
  get waitingForUpstream(): boolean {
    return this.waiting !== undefined;
  }

  /** The body piece by piece, for `for await`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (let bytes = await this.read(); bytes !== null; bytes = await this.read()) yield bytes;
  }

  /**
   * Lets go of the response: after a complete reply the rest is read and dropped so the
   * connection goes back to the pool; otherwise (client gone, failure) the connection is closed,
   * which stops the upstream's work.
   */
  release(completed: boolean): void {
    if (this.released) return;
    this.released = true;
    this.queue.length = 0;
    this.queued = 0;
    if (this.ended || this.failure) return this.detach();
    if (!completed) return this.destroy();
    if (this.controller?.paused) this.controller.resume();
  }

  /** Closes the connection; a pending read rejects with `err`. */
  destroy(err: Error = new Error('upstream request abandoned')): void {
    if (this.ended || this.failure) return;
    // Without a controller yet (not sent), the abort is applied when undici calls onRequestStart.
    this.failure = err;
    this.controller?.abort(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.failure) controller.abort(this.failure);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.headers = headers;
    const opened = this.opened;
    this.opened = undefined;
    opened?.resolve(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.released) {
      this.dropped += chunk.length;
      if (this.dropped > DRAIN_LIMIT_BYTES) this.destroy();
      return;
    }
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting.resolve(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER_BYTES) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.detach();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    // An abort of ours arrives here with its own reason; keep the first failure.
    this.failure ??= err;
    this.detach();
    const { opened, waiting } = this;
    this.opened = undefined;
    this.waiting = undefined;
    opened?.reject(this.failure);
    waiting?.reject(this.failure);
  }

  private readonly onAbort = (): void => {
    const reason: unknown = this.signal.reason;
    this.destroy(reason instanceof Error ? reason : new Error('aborted'));
  };

  private detach(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
