import type { ServerResponse } from 'node:http';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/** Queued text that is written at once, and the writer handed a turn of the event loop, whatever the backend's pace. */
export const SSE_FLUSH_CHARS = 64 * 1024;

/**
 * Writes `data: …\n\n` frames on a raw Node response. Frames queued in one turn of the event loop
 * (one upstream read, one local token) leave together in one write at the end of that turn
 * (setImmediate): nothing waits for a later read, a burst of chunks costs one system call, not one
 * per chunk, and the write runs after the work the chunk set off (a local model is already
 * computing its next token). A backend that yields through microtasks alone never ends a turn, so
 * what is queued is also written once it reaches SSE_FLUSH_CHARS, and the writer then waits for the
 * next turn (or for the socket to drain): one stream holds at most that much, and never starves
 * the event loop. The caller owns the response: Nest and Fastify never write after it.
 */
export class SseWriter {
  private started = false;
  private pending = '';
  private scheduled = false;
  /** Set while the socket is full: writers wait on it. */
  private full: Promise<void> | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  /** Whether the client is gone (nothing more can be written). */
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /**
   * Queues one frame whose payload is already JSON text. Returns a promise when the caller must
   * wait before producing more: the socket is full, or a flush by size hands the event loop a turn.
   */
  write(json: string): Promise<void> | undefined {
    this.pending += `data: ${json}\n\n`;
    if (this.pending.length >= SSE_FLUSH_CHARS) {
      this.flush();
      // 'drain' can come on the next tick (the kernel took it all at once): the turn is still waited for.
      return this.full ? this.full.then(nextTurn) : nextTurn();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.scheduledFlush);
    }
    return this.full;
  }

  /** Ends a successful stream with OpenAI's `[DONE]` sentinel. */
  done(): void {
    this.end('data: [DONE]\n\n');
  }

  /** Ends a failed stream with an error event and no `[DONE]`, so clients see a failure, not a truncated success. */
  fail(errorBody: unknown): void {
    this.end(`data: ${JSON.stringify(errorBody)}\n\n`);
  }

  private readonly flush = (): void => {
    if (!this.pending || this.res.writableEnded) return;
    const text = this.pending;
    this.pending = '';
    this.start();
    if (this.closed) return;
    if (!this.res.write(text) && !this.full) this.full = this.drain();
  };

  private readonly scheduledFlush = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private end(last: string): void {
    const text = this.pending + last;
    this.pending = '';
    this.start();
    if (!this.closed) this.res.end(text);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    // The headers leave with the first frames, in the same write.
    this.res.writeHead(200, { ...SSE_HEADERS, ...this.extraHeaders });
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.full = undefined;
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
