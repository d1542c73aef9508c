import type { ServerResponse } from 'node:http';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * Writes `data: …\n\n` frames on a raw Node response, honouring backpressure.
 * The caller owns the response: Nest and Fastify never write after it.
 */
export class SseWriter {
  private started = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  /** Whether the client is gone (nothing more can be written). */
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // The headers leave with the first frame, in the same write.
    this.res.writeHead(200, { ...SSE_HEADERS, ...this.extraHeaders });
  }

  /** Writes one frame whose payload is already JSON text; resolves once the socket can take more. */
  async write(json: string): Promise<void> {
    this.start();
    if (this.closed) return;
    // Frames written in one tick (one upstream read) leave in one write; nothing waits for a later read.
    if (!this.res.writableCorked) {
      this.res.cork();
      process.nextTick(() => this.res.uncork());
    }
    if (!this.res.write(`data: ${json}\n\n`)) await this.drain();
  }

  /** Ends a successful stream with OpenAI's `[DONE]` sentinel. */
  done(): void {
    this.start();
    if (!this.closed) this.res.end('data: [DONE]\n\n');
  }

  /** Ends a failed stream with an error event and no `[DONE]`, so clients see a failure, not a truncated success. */
  fail(errorBody: unknown): void {
    this.start();
    if (!this.closed) this.res.end(`data: ${JSON.stringify(errorBody)}\n\n`);
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}
