import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Pool } from 'undici';
import { readText } from './read-body.js';
import { UpstreamCall } from './upstream-call.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UpstreamCall', () => {
  let server: Server;
  let pool: Pool;
  let handler: Handler;
  let closedSockets = 0;

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    server.on('connection', (s: Socket) => s.on('close', () => closedSockets++));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
  });

  afterAll(async () => {
    await pool.close();
    server.close();
  });

  const open = (signal = new AbortController().signal, options: { bodyTimeout?: number } = {}) =>
    UpstreamCall.open(pool, { method: 'POST', path: '/x', body: '{}', headers: { 'content-type': 'application/json' }, ...options }, signal);

  async function readAll(call: UpstreamCall): Promise<string> {
    const parts: Buffer[] = [];
    for await (const bytes of call) parts.push(bytes);
    return Buffer.concat(parts).toString('utf8');
  }

  it('gives the status, the headers and then the body piece by piece as the server writes it', async () => {
    handler = (_req, res) => {
      res.writeHead(201, { 'x-kind': 'test' });
      res.write('first ');
      setTimeout(() => res.end('second'), 20);
    };
    const call = await open();
    expect(call.statusCode).toBe(201);
    expect(call.headers['x-kind']).toBe('test');
    expect((await call.read())?.toString()).toBe('first ');
    expect((await call.read())?.toString()).toBe('second');
    expect(await call.read()).toBeNull();
    expect(await call.read()).toBeNull();
  });

  it('resolves on an error status too: the caller reads the error body', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
      res.end('{"error":{"message":"slow down"}}');
    };
    const call = await open();
    expect(call.statusCode).toBe(429);
    expect(call.headers['retry-after']).toBe('3');
    expect(await readText(call, 1024)).toEqual({ text: '{"error":{"message":"slow down"}}', truncated: false });
  });

  it('holds a body larger than its high-water mark until it is read, losing nothing', async () => {
    const piece = Buffer.alloc(16 * 1024, 'a');
    const pieces = 2048; // 32 MiB, far more than the high-water mark and the kernel's socket buffers
    let sent = 0;
    handler = (_req, res) => {
      res.writeHead(200);
      const more = () => {
        while (sent < pieces) {
          sent++;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    };
    const call = await open();
    await sleep(200); // the server writes as much as the paused socket takes meanwhile
    // Nothing is read yet: undici has stopped reading the socket, so the server could not send it all.
    expect(sent * piece.length).toBeLessThan(16 * 1024 * 1024);
    const text = await readAll(call);
    expect(text.length).toBe(piece.length * pieces);
    expect(text).toBe('a'.repeat(piece.length * pieces));
  });

  it('rejects a pending read with the reason when the signal aborts, and closes the connection', async () => {
    let serverSaw: Promise<unknown> = Promise.resolve();
    handler = (req, res) => {
      serverSaw = once(res, 'close');
      res.writeHead(200);
      res.write('partial');
    };
    const controller = new AbortController();
    const call = await open(controller.signal);
    expect((await call.read())?.toString()).toBe('partial');
    const pending = call.read();
    const reason = new Error('client gone');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await serverSaw;
  });

  it('refuses to start when the signal has already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('already gone');
    controller.abort(reason);
    await expect(open(controller.signal)).rejects.toBe(reason);
  });

  it('release(false) closes the connection: the upstream stops its work', async () => {
    let closed!: Promise<unknown>;
    handler = (_req, res) => {
      closed = once(res, 'close');
      res.writeHead(200);
      res.write('data: 1\n\n');
    };
    const call = await open();
    await call.read();
    call.release(false);
    await closed;
  });

  it('release(true) reads and drops the rest so the connection goes back to the pool', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('data: [DONE]\n\n');
      setTimeout(() => res.end(), 30);
    };
    const before = closedSockets;
    const call = await open();
    expect((await call.read())?.toString()).toBe('data: [DONE]\n\n');
    call.release(true);
    await sleep(100);
    handler = (_req, res) => res.end('again');
    const next = await open();
    expect(await readAll(next)).toBe('again');
    expect(closedSockets).toBe(before);
  });

  it("rejects a read with undici's body timeout when the upstream goes silent", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('one');
    };
    const call = await open(undefined, { bodyTimeout: 100 });
    await call.read();
    await expect(call.read()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('says it waits for the upstream only while a read is pending with nothing unread held', async () => {
    let more!: () => void;
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('one');
      more = () => res.end('two');
    };
    const call = await open();
    await sleep(50);
    expect(call.waitingForUpstream).toBe(false);
    expect((await call.read())?.toString()).toBe('one');
    expect(call.waitingForUpstream).toBe(false);
    const pending = call.read();
    expect(call.waitingForUpstream).toBe(true);
    more();
    expect((await pending)?.toString()).toBe('two');
    expect(call.waitingForUpstream).toBe(false);
  });

  it('rejects when the upstream resets the connection mid-body', async () => {
    handler = (req, res) => {
      res.writeHead(200);
      res.write('some');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const call = await open();
    await expect(readAll(call)).rejects.toBeInstanceOf(Error);
  });

  it('readText stops at its limit and closes the connection', async () => {
    let closed!: Promise<unknown>;
    handler = (_req, res) => {
      closed = once(res, 'close');
      res.writeHead(200);
      res.write('x'.repeat(4096));
    };
    const call = await open();
    const { truncated } = await readText(call, 1024);
    expect(truncated).toBe(true);
    await closed;
  });

  it('rejects when the pool is closed', async () => {
    const gone = new Pool('http://127.0.0.1:9');
    await gone.close();
    await expect(UpstreamCall.open(gone, { method: 'GET', path: '/' }, new AbortController().signal)).rejects.toBeInstanceOf(Error);
  });
});
