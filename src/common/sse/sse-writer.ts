import type { ServerResponse } from 'node:http';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * Writes `data: …\n\n` frames on a raw Node response. Frames queued in one turn of the event loop
 * (one upstream read, one local token) leave together in one write at the end of that turn
 * (setImmediate): nothing waits for a later read, a burst of chunks costs one system call, not one
 * per chunk, and the write runs after the work the chunk set off (a local model is already
 * computing its next token). The caller owns the response: Nest and Fastify never write after it.
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
   * Queues one frame whose payload is already JSON text. Returns a promise only when the socket
   * is full: the caller waits on it before producing more.
   */
  write(json: string): Promise<void> | undefined {
    this.pending += `data: ${json}\n\n`;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
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
    this.scheduled = false;
    if (!this.pending || this.res.writableEnded) return;
    const text = this.pending;
    this.pending = '';
    this.start();
    if (this.closed) return;
    if (!this.res.write(text) && !this.full) this.full = this.drain();
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
