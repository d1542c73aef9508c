import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The client's port: the same port means the same (kept-alive) connection. */
  remotePort?: number;
  body: string;
  json: any;
  /** Resolves when the connection of this request closed; `closedAt` is then set. */
  closed: Promise<void>;
  closedAt?: number;
  finished: boolean;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 that records every request and answers with the current handler. */
export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  handler: Handler = (req, res) => reply(res, 200, completion(req.json?.model ?? 'm', 'hello'));
  private server: Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        let markClosed!: () => void;
        const rec: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          remotePort: req.socket.remotePort,
          body,
          json,
          finished: false,
          closed: new Promise((r) => (markClosed = r)),
        };
        res.on('close', () => {
          rec.closedAt = Date.now();
          rec.finished = res.writableFinished;
          markClosed();
        });
        this.requests.push(rec);
        Promise.resolve(this.handler(rec, res)).catch(() => res.destroy());
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  reset(handler?: Handler): void {
    this.requests.length = 0;
    if (handler) this.handler = handler;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function completion(model: string, content: string) {
  return {
    id: 'chatcmpl-upstream',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  };
}

export function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: 'chatcmpl-up',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes SSE frames with a pause between them; `[DONE]` at the end unless `done: false`. */
export async function streamFrames(res: ServerResponse, frames: unknown[], opts: { gapMs?: number; done?: boolean } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const f of frames) {
    if (res.destroyed) return;
    res.write(`data: ${typeof f === 'string' ? f : JSON.stringify(f)}\n\n`);
    if (opts.gapMs) await sleep(opts.gapMs);
  }
  if (opts.done !== false) res.end('data: [DONE]\n\n');
}
