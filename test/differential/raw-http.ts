import { connect } from 'node:net';

/** One request exactly as it goes on the wire: nothing adds, reorders or re-encodes a header or a byte. */
export interface RawRequest {
  method: string;
  /** Path and query, as written on the request line. */
  target: string;
  /** Header lines in order, as sent (Host, Content-Length and Connection are the caller's to give). */
  headers: [string, string][];
  body: Buffer;
  /** Send the body as chunked transfer encoding, in these pieces (byte lengths), instead of Content-Length. */
  chunks?: number[];
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** The bytes of a request: the request line, the headers given, then the body (chunked if asked). */
export function requestBytes(req: RawRequest): Buffer {
  const head = [`${req.method} ${req.target} HTTP/1.1`, ...req.headers.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  if (!req.chunks) return Buffer.concat([Buffer.from(head, 'latin1'), req.body]);
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  let at = 0;
  for (const size of [...req.chunks, req.body.length]) {
    const piece = req.body.subarray(at, Math.min(req.body.length, at + size));
    at += piece.length;
    if (piece.length) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/**
 * Sends the request on a fresh connection to 127.0.0.1:port and reads one response until the server
 * closes (the caller sends `Connection: close`). A server that answers before reading the whole body and
 * then resets the connection still gives its answer.
 */
export function sendRaw(port: number, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error, closed = true) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(received);
      const parsed = bytes.length ? parseResponse(bytes, closed) : undefined;
      if (parsed) resolve(parsed);
      else reject(err ?? new Error(`no complete HTTP response (${bytes.length} bytes received)`));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (d: Buffer) => {
      received.push(d);
      // Stop as soon as a whole response is here: some servers keep the connection open after it.
      if (parseResponse(Buffer.concat(received), false)) finish(undefined, false);
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err) => finish(err));
    socket.write(requestBytes(req));
  });
}

/** A complete HTTP/1.1 response in the bytes, or undefined while it is not all there (`closed`: no more will come). */
export function parseResponse(bytes: Buffer, closed: boolean): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const rest = bytes.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const body = dechunk(rest);
    return body ? { status, headers, body } : undefined;
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined;
  }
  // Neither: the body ends when the connection does.
  if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  return closed ? { status, headers, body: rest } : undefined;
}

function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
