import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSE_FLUSH_CHARS, SseWriter } from './sse-writer.js';

/** A real server whose one route hands its response to `handle`, and a client that reads (or not) what comes. */
async function serve(handle: (res: ServerResponse) => Promise<void> | void): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => void handle(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, read = true): Promise<{ res: IncomingMessage; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let text = '';
      if (read) res.setEncoding('utf8').on('data', (d: string) => (text += d));
      resolve({ res, body: new Promise((done) => res.on('end', () => done(text)).on('close', () => done(text))) });
    });
    req.on('error', reject);
    req.end();
  });
}

const frame = (i: number) => JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: ` word${i}` } }] });

describe('SseWriter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('sends the headers with the first frames, frames of one turn in one write, then [DONE]', async () => {
    let writes = 0;
    ({ server } = await serve((res) => {
      const write = res.write.bind(res);
      res.write = ((chunk: never, ...rest: never[]) => (writes++, write(chunk, ...rest))) as typeof res.write;
      const sse = new SseWriter(res, { 'x-extra': '1' });
      for (let i = 0; i < 3; i++) void sse.write(frame(i));
      setTimeout(() => sse.done(), 20);
    }));
    const { res, body } = await get((server.address() as AddressInfo).port);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-extra']).toBe('1');
    expect(await body).toBe(`${[0, 1, 2].map((i) => `data: ${frame(i)}\n\n`).join('')}data: [DONE]\n\n`);
    expect(writes).toBe(1);
  });

  it('ends a failed stream with an error event and no [DONE]', async () => {
    ({ server } = await serve((res) => {
      const sse = new SseWriter(res);
      void sse.write(frame(0));
      sse.fail({ error: { message: 'upstream failed', code: 'upstream_error' } });
    }));
    const { body } = await get((server.address() as AddressInfo).port);
    expect(await body).toBe(`data: ${frame(0)}\n\ndata: {"error":{"message":"upstream failed","code":"upstream_error"}}\n\n`);
  });

  it('never starves the event loop, however fast a producer is: a timer runs while 20 MB of frames are produced through microtasks alone', async () => {
    let ticks = 0;
    let ticksWhileProducing = 0;
    let produced = 0;
    ({ server } = await serve(async (res) => {
      const timer = setInterval(() => ticks++, 1);
      const sse = new SseWriter(res);
      for (let i = 0; produced < 20 * 1024 * 1024; i++) {
        const text = frame(i);
        produced += text.length;
        const wait = sse.write(text);
        if (wait) await wait;
        else await Promise.resolve();
      }
      ticksWhileProducing = ticks;
      clearInterval(timer);
      sse.done();
    }));
    const { body } = await get((server.address() as AddressInfo).port);
    const text = await body;
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text.length).toBeGreaterThan(20 * 1024 * 1024);
    expect(ticksWhileProducing).toBeGreaterThan(10);
  });

  it('holds the producer while a client reads nothing, and lets it go when the client leaves', async () => {
    let produced = 0;
    let finished = false;
    ({ server } = await serve(async (res) => {
      const sse = new SseWriter(res);
      for (let i = 0; !sse.closed; i++) {
        const text = frame(i);
        produced += text.length;
        const wait = sse.write(text);
        if (wait) await wait;
      }
      finished = true;
    }));
    const { res } = await get((server.address() as AddressInfo).port, false);
    // The socket's buffers fill (the kernel may grow them for a while), then nothing more is made.
    let held = -1;
    for (let i = 0; i < 20 && produced !== held; i++) {
      held = produced;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(produced).toBe(held);
    expect(held).toBeLessThan(32 * 1024 * 1024);
    expect(held).toBeGreaterThan(SSE_FLUSH_CHARS);
    res.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(finished).toBe(true);
  });
});
