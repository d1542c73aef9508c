import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { clientAgent, send } from './support/http-client.js';
import { CLIENT_KEY } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { recordSummary } from './support/summary.js';

/**
 * Part 6 — one caller must not hurt the others. Each case attacks the built service (a child process) the way
 * the hardening issue found it could be hurt, while a bystander asks GET /v1/health every 50 ms: the bystander's
 * slowest answer and the child's resident memory are what the assertions bound.
 */

const AUTH = { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' };
const BYSTANDER_BOUND_MS = 1000;
const RSS_BOUND_MB = 150;

/** GET /v1/health every 50 ms until stopped; the slowest answer (a hang counts as its time so far). */
function bystander(url: string): { stop(): Promise<number> } {
  const agent = clientAgent(1);
  let running = true;
  let worst = 0;
  const loop = (async () => {
    while (running) {
      const r = await send(`${url}/v1/health`, { method: 'GET', agent, timeoutMs: 60_000 });
      worst = Math.max(worst, r.ms);
      if (r.status !== 200) worst = Math.max(worst, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return worst;
    },
  };
}

/** Samples the child's RSS every 100 ms; the peak. */
function rssSampler(svc: ServiceProcess): { stop(): number } {
  let peak = svc.rssMb();
  const timer = setInterval(() => {
    if (svc.alive) peak = Math.max(peak, svc.rssMb());
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The first HTTP status line a socket receives within `ms` (0 when none came). */
function firstStatus(socket: Socket, ms: number): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    const done = (status: number) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(status);
    };
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) done(Number(m[1]));
    };
    const timer = setTimeout(() => done(0), ms);
    socket.on('data', onData);
    socket.once('close', () => done(0));
  });
}

/**
 * A streamed chat request read as it comes and dropped (frames counted, the last bytes kept): the test process
 * holds none of it, so its own work never delays the bystander it measures.
 */
function readStream(port: number, body: string): Promise<{ status: number; frames: number; bytes: number; tail: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: { ...AUTH, 'content-length': Buffer.byteLength(body) }, agent: false },
      (res) => {
        let frames = 0;
        let bytes = 0;
        let tail = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => {
          bytes += piece.length;
          const text = tail + piece;
          for (let at = text.indexOf('\n\n', Math.max(0, tail.length - 1)); at !== -1; at = text.indexOf('\n\n', at + 2)) frames++;
          tail = text.slice(-64);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, frames, bytes, tail, ms: Date.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const chatHead = (length: number, auth: boolean) =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${auth ? `Authorization: Bearer ${CLIENT_KEY}\r\n` : ''}\r\n`;

const figures: Record<string, unknown> = {};

describe('reliability: one caller cannot hurt the others', () => {
  let svc: ServiceProcess;
  let idleMb: number;

  beforeAll(async () => {
    svc = await ServiceProcess.start({ API_KEYS: CLIENT_KEY, LOG_LEVEL: 'warn', MAX_BUFFERED_BODY_BYTES: String(48 * 1024 * 1024) }, { gcOnSignal: true });
    // Warm up, then measure idle.
    for (let i = 0; i < 20; i++)
      await send(`${svc.url}/v1/chat/completions`, {
        headers: AUTH,
        body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'warm up' }] }),
      });
    await svc.collectGarbage();
    idleMb = svc.rssMb();
    figures.idleRssMb = Math.round(idleMb);
  });

  afterAll(async () => {
    recordSummary('attacks', figures);
    await svc?.stop();
  });

  afterEach(async () => {
    expect(svc.alive).toBe(true);
    await svc.collectGarbage();
  });

  it('tokenizes white space in linear time: a 4 MB message of white space never stalls a bystander', async () => {
    const watch = bystander(svc.url);
    const spaces = ' \t\n\u3000\u00a0'.repeat(800 * 1024);
    const results = [];
    for (const text of [' '.repeat(100 * 1024), spaces, `word${spaces}`]) {
      for (const stream of [false, true]) {
        const r = await send(`${svc.url}/v1/chat/completions`, {
          headers: AUTH,
          body: JSON.stringify({ model: 'echo', stream, messages: [{ role: 'user', content: text }] }),
          timeoutMs: 30_000,
        });
        expect(r.status).toBe(200);
        results.push(r.ms);
      }
    }
    const worst = await watch.stop();
    figures.whitespace = { requests: results.length, slowestRequestMs: Math.max(...results), bystanderWorstMs: worst };
    expect(worst).toBeLessThan(BYSTANDER_BOUND_MS);
  });

  it('streams a long echo as it is made: memory stays bounded and a bystander is answered', async () => {
    const text = 'a '.repeat(1024 * 1024);
    const rss = rssSampler(svc);
    const watch = bystander(svc.url);
    const r = await readStream(svc.port, JSON.stringify({ model: 'echo', stream: true, messages: [{ role: 'user', content: text }] }));
    const worst = await watch.stop();
    const peak = rss.stop();
    figures.longStream = {
      tokens: 1024 * 1024,
      sseMb: Math.round(r.bytes / 1e6),
      ms: r.ms,
      peakRssOverIdleMb: Math.round(peak - idleMb),
      bystanderWorstMs: worst,
    };
    expect(r.status).toBe(200);
    expect(r.tail.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(r.frames).toBeGreaterThan(1024 * 1024);
    expect(peak - idleMb).toBeLessThan(RSS_BOUND_MB);
    expect(worst).toBeLessThan(BYSTANDER_BOUND_MS);
  });

  it('holds a stream whose client reads nothing to what the socket takes, and stops it when the client leaves', async () => {
    const text = 'a '.repeat(2 * 1024 * 1024);
    const body = JSON.stringify({ model: 'echo', stream: true, messages: [{ role: 'user', content: text }] });
    const socket = await openSocket(svc.port);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.write(body);
    const status = firstStatus(socket, 10_000);
    expect(await status).toBe(200);
    socket.pause();
    const rss = rssSampler(svc);
    const watch = bystander(svc.url);
    await new Promise((r) => setTimeout(r, 3000));
    const worst = await watch.stop();
    const peak = rss.stop();
    socket.destroy();
    figures.unreadStream = { peakRssOverIdleMb: Math.round(peak - idleMb), bystanderWorstMs: worst };
    expect(peak - idleMb).toBeLessThan(RSS_BOUND_MB);
    expect(worst).toBeLessThan(BYSTANDER_BOUND_MS);
  });

  it('answers a request without credentials 401 from its headers, before any of its body arrives', async () => {
    const sockets = await Promise.all(Array.from({ length: 500 }, () => openSocket(svc.port)));
    const watch = bystander(svc.url);
    const rss = rssSampler(svc);
    const started = Date.now();
    const statuses = await Promise.all(
      sockets.map((s) => {
        const status = firstStatus(s, 5000);
        s.write(chatHead(9_500_000, false));
        return status;
      }),
    );
    const answeredMs = Date.now() - started;
    // Then each sends 1 MB of its body anyway and holds the connection open.
    const megabyte = Buffer.alloc(1024 * 1024, 0x20);
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.write(megabyte, () => resolve())))));
    await new Promise((r) => setTimeout(r, 1000));
    const worst = await watch.stop();
    const peak = rss.stop();
    for (const s of sockets) s.destroy();
    figures.unauthenticatedFlood = {
      connections: sockets.length,
      status401: statuses.filter((s) => s === 401).length,
      allAnsweredMs: answeredMs,
      mbSent: sockets.length,
      peakRssOverIdleMb: Math.round(peak - idleMb),
      bystanderWorstMs: worst,
    };
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(peak - idleMb).toBeLessThan(RSS_BOUND_MB);
    expect(worst).toBeLessThan(BYSTANDER_BOUND_MS);
  });

  it('bounds the bytes of bodies held at once: past MAX_BUFFERED_BODY_BYTES a body is refused 503 before it is read', async () => {
    // 48 MB of budget: five 9.5 MB bodies fit, the sixth and later do not.
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(svc.port)));
    const statuses = await Promise.all(
      sockets.map((s) => {
        const status = firstStatus(s, 3000);
        s.write(chatHead(9_500_000, true));
        return status;
      }),
    );
    const refused = statuses.filter((s) => s === 503).length;
    // The held bodies are given back when their connections go: a new request is served.
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const after = await send(`${svc.url}/v1/chat/completions`, {
      headers: AUTH,
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'x'.repeat(9_000_000) }] }),
    });
    figures.bodyBudget = { connections: 20, held: statuses.filter((s) => s === 0).length, refused503: refused, afterwards: after.status };
    expect(statuses.filter((s) => s === 0)).toHaveLength(5);
    expect(refused).toBe(15);
    expect(after.status).toBe(200);
  });
});

describe('reliability: connection timeouts and cap', () => {
  let svc: ServiceProcess;

  beforeAll(async () => {
    svc = await ServiceProcess.start({
      API_KEYS: CLIENT_KEY,
      LOG_LEVEL: 'warn',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '3000',
      MAX_CONNECTIONS: '50',
    });
  });

  afterAll(async () => {
    recordSummary('attacks', figures);
    await svc?.stop();
  });

  it('closes a connection whose headers do not arrive within about a second of HEADERS_TIMEOUT_MS, and one whose body does not within REQUEST_TIMEOUT_MS', async () => {
    const timed = async (first: string) => {
      const socket = await openSocket(svc.port);
      const started = Date.now();
      socket.write(first);
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
      const status = await firstStatus(socket, 10_000);
      const ms = await closed;
      socket.destroy();
      return { status, ms };
    };
    const [headers, body] = await Promise.all([timed('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n'), timed(`${chatHead(1000, true)}{"model":`)]);
    figures.timeouts = { headersTimeoutMs: 2000, headersClosedAfterMs: headers.ms, requestTimeoutMs: 3000, bodyClosedAfterMs: body.ms };
    expect(headers.status).toBe(408);
    expect(headers.ms).toBeGreaterThanOrEqual(1900);
    expect(headers.ms).toBeLessThan(3500);
    expect(body.status).toBe(408);
    expect(body.ms).toBeGreaterThanOrEqual(2900);
    expect(body.ms).toBeLessThan(4500);
  });

  it('holds at most MAX_CONNECTIONS connections; others are closed at once, and serving resumes when they go', async () => {
    const sockets = await Promise.all(Array.from({ length: 120 }, () => openSocket(svc.port)));
    // Read, so a close by the service is seen.
    for (const s of sockets) s.resume();
    await new Promise((r) => setTimeout(r, 500));
    const open = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const after = await send(`${svc.url}/v1/health`, { method: 'GET', agent: false });
    figures.connectionCap = { maxConnections: 50, opened: 120, heldOpen: open, afterwards: after.status };
    expect(open).toBeLessThanOrEqual(50);
    expect(after.status).toBe(200);
  });
});
