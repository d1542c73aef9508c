import { createServer, type Server, type Socket } from 'node:net';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request a fault script answers (parsed by hand from the bytes on the socket). */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  json: any;
}

/** One connection of the fault server, with the moves a misbehaving upstream can make. */
export class FaultConnection {
  constructor(
    readonly socket: Socket,
    readonly req: RawRequest,
  ) {}

  get stream(): boolean {
    return this.req.json?.stream === true;
  }

  /** A status line and headers; `connection: close` so that a finished reply leaves no socket open. */
  head(status: number, headers: Record<string, string | number> = {}): void {
    const lines = Object.entries({ connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
    this.socket.write(`HTTP/1.1 ${status} Fault\r\n${lines.join('')}\r\n`);
  }

  write(data: string | Buffer): boolean {
    return this.socket.destroyed ? false : this.socket.write(data);
  }

  /** A whole reply, then the server's end of the connection closes. */
  send(status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
    this.head(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    this.socket.end(body);
  }

  json(status: number, body: unknown, headers: Record<string, string | number> = {}): void {
    this.send(status, JSON.stringify(body), headers);
  }

  sseHead(): void {
    this.head(200, { 'content-type': 'text/event-stream' });
  }

  frame(data: unknown): void {
    this.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }

  /** An SSE comment (a keep-alive such as `: ping`): bytes on the wire that complete no event. */
  comment(text = 'ping'): void {
    this.write(`: ${text}\n\n`);
  }

  /** An event in Anthropic's format: an `event:` line, then its data. */
  event(name: string, data: unknown): void {
    this.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Runs `step` every `ms`, `times` times at most, until the other side closes the connection. */
  async every(ms: number, step: (i: number) => void, times = 600): Promise<void> {
    for (let i = 0; i < times && !this.socket.destroyed; i++) {
      step(i);
      await sleep(ms);
    }
  }

  end(data?: string): void {
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
  }

  /** A TCP RST: the peer sees ECONNRESET. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** Does nothing, forever: only the other side can end this connection. */
  hang(): void {}
}

export type FaultScript = (c: FaultConnection) => void | Promise<void>;

/**
 * An upstream on 127.0.0.1 made of a raw `node:net` server, so a test controls every byte and every
 * close (a reset before the headers, a body cut in the middle, headers that never come). It counts
 * requests and knows its open sockets, so a test can see that the service let go of each one.
 */
export class FaultUpstream {
  script: FaultScript = (c) => c.json(200, { ok: true });
  /** Requests to `/chat/completions` since the last reset. */
  requests: RawRequest[] = [];
  totalConnections = 0;
  private readonly sockets = new Set<Socket>();
  /** Sockets a request arrived on (the rest are connections a pool opened and never used). */
  private readonly used = new WeakSet<Socket>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((socket) => {
      this.totalConnections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffer = Buffer.alloc(0);
      let answered = false;
      socket.on('data', (data: Buffer) => {
        this.used.add(socket);
        if (answered) return;
        buffer = Buffer.concat([buffer, data]);
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [line, ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const h of headerLines) {
          const i = h.indexOf(':');
          headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buffer.length < end + 4 + length) return;
        answered = true;
        const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
        const [method, path] = line.split(' ');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const req: RawRequest = { method, path, headers, body, json };
        if (path.endsWith('/models')) return new FaultConnection(socket, req).json(200, { object: 'list', data: [] });
        this.requests.push(req);
        Promise.resolve(this.script(new FaultConnection(socket, req))).catch(() => socket.destroy());
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
  }

  /** The origin alone, as an Anthropic provider's `baseURL` takes it (requests go to `/v1/messages`). */
  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Open connections that carried a request: each must be closed once its case is over. */
  get openRequestSockets(): number {
    return [...this.sockets].filter((s) => this.used.has(s)).length;
  }

  /** Open connections that never carried a single byte (opened by a client's pool, then left idle). */
  get idleSockets(): number {
    return this.sockets.size - this.openRequestSockets;
  }

  reset(script: FaultScript): void {
    this.requests = [];
    this.script = script;
  }

  /** Waits (bounded) until no connection that carried a request is open; returns how many still are. */
  async settled(timeoutMs = 3000): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (this.openRequestSockets > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.openRequestSockets;
  }

  /** Closes connections that never carried a request, so the next case starts from zero. */
  dropIdle(): number {
    let n = 0;
    for (const s of this.sockets) {
      if (this.used.has(s)) continue;
      s.destroy();
      n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then closed again). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
