import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  /** 0 when no response came (closed, reset or timed out). */
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
  bytes: number;
  ms: number;
  /** Transport failure or `timeout`, when there was one. */
  error?: string;
  /** The request went out on a kept-alive connection that an earlier exchange used. */
  reused?: boolean;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  agent?: Agent | false;
  /** The whole exchange must end by then, or it counts as a hang (`error: 'timeout'`). */
  timeoutMs?: number;
  /** Called with each piece of the body as it arrives (streams). */
  onData?: (text: string) => void;
}

/** One HTTP exchange over node:http: exactly the headers given, the whole body read, bounded in time. */
export function send(url: string | { port: number; path: string }, opts: SendOptions = {}): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    let bytes = 0;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(parts).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status, headers, text, json, bytes, ms: Date.now() - started, reused: req.reusedSocket, ...(error ? { error } : {}) });
    };
    const body = opts.body;
    const hdrs: Record<string, string | number> = { ...opts.headers };
    if (body !== undefined && !Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding'))
      hdrs['content-length'] = Buffer.byteLength(body);
    const target = typeof url === 'string' ? new URL(url) : { hostname: '127.0.0.1', port: url.port, pathname: url.path, search: '' };
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: opts.method ?? 'POST', headers: hdrs, agent: opts.agent },
      (res) => {
        status = res.statusCode ?? 0;
        headers = res.headers;
        res.on('data', (d: Buffer) => {
          parts.push(d);
          bytes += d.length;
          opts.onData?.(d.toString('utf8'));
        });
        res.on('end', () => finish());
        res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
        res.on('close', () => finish(res.complete ? undefined : 'aborted'));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('timeout');
    }, opts.timeoutMs ?? 30_000);
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A server may answer (413) and close while the body is still being written: the answer counts.
      if (status === 0) finish(e.code ?? e.message);
    });
    req.end(body);
  });
}

export interface RawExchange {
  text: string;
  responses: { status: number; headers: Record<string, string>; body: string }[];
  /** Whether the service closed the connection (rather than this side, after waitMs). */
  closedByServer: boolean;
  error?: string;
  ms: number;
}

/**
 * Writes bytes on a raw TCP connection (in pieces, with pauses), optionally half-closes or resets it,
 * and collects what the service answers until it closes or `waitMs` passes.
 */
export function rawExchange(
  port: number,
  pieces: (string | Buffer)[],
  opts: { gapMs?: number; waitMs?: number; then?: 'end' | 'destroy' | 'keep' } = {},
): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let error: string | undefined;
    let closedByServer = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(got).toString('latin1');
      resolve({ text, responses: parseResponses(Buffer.concat(got)), closedByServer, error, ms: Date.now() - started });
    };
    const timer = setTimeout(finish, opts.waitMs ?? 2000);
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('end', () => (closedByServer = true));
    socket.on('close', () => {
      if (!done && !error) closedByServer = true;
      finish();
    });
    const send = async () => {
      for (const p of pieces) {
        if (socket.destroyed) return;
        socket.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.then === 'end') socket.end();
      else if (opts.then === 'destroy') {
        socket.destroy();
        finish();
      }
    };
    socket.on('connect', () => void send().catch((e: unknown) => socket.destroy(e instanceof Error ? e : new Error(String(e)))));
  });
}

/** HTTP/1.1 responses found in raw bytes (content-length and chunked bodies). */
export function parseResponses(buf: Buffer): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const [line, ...lines] = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let pos = end + 4;
    let body: Buffer;
    if (headers['transfer-encoding']?.includes('chunked')) {
      const pieces: Buffer[] = [];
      for (;;) {
        const eol = buf.indexOf('\r\n', pos);
        if (eol === -1) break;
        const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
        if (!Number.isFinite(size)) break;
        pos = eol + 2;
        if (size === 0) {
          pos += 2;
          break;
        }
        pieces.push(buf.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(pieces);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = buf.subarray(pos, pos + length);
      pos += length;
    }
    out.push({ status: Number(m[1]), headers, body: body.toString('utf8') });
    at = pos;
  }
  return out;
}

/** A keep-alive agent for a test's own traffic; `destroy()` it when done so no socket is left. */
export function clientAgent(maxSockets = 16): Agent {
  return new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
}
