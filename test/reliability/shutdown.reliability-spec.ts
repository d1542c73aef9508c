import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { writeConfig } from '../support/config-file.js';
import { chunk, completion, reply, sleep } from '../support/mock-upstream.js';
import { clientAgent, send, type Reply } from './support/http-client.js';
import { CLIENT_KEY, SecretScanner, UPSTREAM_KEY } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { recordSummary } from './support/summary.js';

const STREAMS = 100;
const SLOW_REPLIES = 20;
const EVENTS = 20;
const GAP_MS = 100;
const GRACE_MS = 15_000;

/** Streams of EVENTS events GAP_MS apart (about 2 s each), and non-streamed replies that take as long. */
function slowUpstream() {
  const state = { started: 0, finished: 0 };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    // A throw in the handler ends the reply instead of becoming an unhandled rejection.
    req.on('end', () => {
      void (async () => {
        if (!req.url?.endsWith('/chat/completions')) return reply(res, 200, { object: 'list', data: [] });
        const json = JSON.parse(Buffer.concat(parts).toString('utf8'));
        state.started++;
        res.on('finish', () => state.finished++);
        if (!json.stream) {
          await sleep(EVENTS * GAP_MS);
          return reply(res, 200, completion(json.model, `slow ${json.user}`));
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk(json.model, { role: 'assistant', content: '' }))}\n\n`);
        for (let i = 0; i < EVENTS; i++) {
          await sleep(GAP_MS);
          if (res.destroyed) return;
          res.write(`data: ${JSON.stringify(chunk(json.model, { content: `t${i} ` }))}\n\n`);
        }
        res.write(`data: ${JSON.stringify(chunk(json.model, {}, 'stop'))}\n\n`);
        res.end('data: [DONE]\n\n');
      })().catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    });
  });
  return { server, state };
}

/** Whether a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('part 5: SIGTERM under load (the built service as a process)', () => {
  const upstream = slowUpstream();

  beforeAll(() => new Promise<void>((r) => upstream.server.listen(0, '127.0.0.1', r)));
  afterAll(() => new Promise<void>((r) => upstream.server.close(() => r())));

  it(`lets ${STREAMS} streams and ${SLOW_REPLIES} slow replies in flight finish, refuses new connections, and exits 0`, async () => {
    const config = writeConfig(`
providers:
  up:
    type: openai
    baseURL: http://127.0.0.1:${(upstream.server.address() as { port: number }).port}/v1
    apiKey: \${REL_UPSTREAM_KEY}
    timeoutMs: 10000
models:
  - name: slow
    provider: up
`);
    const svc = await ServiceProcess.start({
      API_KEYS: CLIENT_KEY,
      CONFIG_FILE: config,
      REL_UPSTREAM_KEY: UPSTREAM_KEY,
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'info',
    });
    const agent = clientAgent(STREAMS + SLOW_REPLIES + 10);
    const firstBytes = new Set<number>();
    try {
      const ask = (i: number, stream: boolean): Promise<Reply> =>
        send(`${svc.url}/v1/chat/completions`, {
          headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'slow', user: `c${i}`, stream, messages: [{ role: 'user', content: 'go' }] }),
          agent,
          timeoutMs: GRACE_MS + 10_000,
          onData: () => firstBytes.add(i),
        });
      // An idle keep-alive connection as well: it must not hold the shutdown up.
      expect((await send(`${svc.url}/v1/health`, { method: 'GET', agent })).status).toBe(200);
      const inFlight = [...Array.from({ length: STREAMS }, (_, i) => ask(i, true)), ...Array.from({ length: SLOW_REPLIES }, (_, i) => ask(STREAMS + i, false))];
      const until = Date.now() + 10_000;
      while ((upstream.state.started < STREAMS + SLOW_REPLIES || firstBytes.size < STREAMS) && Date.now() < until) await sleep(10);
      expect(upstream.state.started).toBe(STREAMS + SLOW_REPLIES);
      expect(firstBytes.size).toBeGreaterThanOrEqual(STREAMS);
      expect(upstream.state.finished).toBe(0);

      const signalledAt = Date.now();
      svc.child.kill('SIGTERM');
      await sleep(150);
      const refusedAfterSignal = await refused(svc.port);
      const healthAfterSignal = await send(`${svc.url}/v1/health`, { method: 'GET', agent: false, timeoutMs: 3000 });
      const replies = await Promise.all(inFlight);
      const [code, signal] = await svc.exited;
      const exitMs = Date.now() - signalledAt;

      const broken = replies
        .map((r, i) => ({ r, i }))
        .filter(({ r, i }) => {
          if (r.status !== 200 || r.error) return true;
          if (i >= STREAMS) return r.json?.choices?.[0]?.message?.content !== `slow c${i}`;
          if (!r.text.endsWith('data: [DONE]\n\n')) return true;
          const text = r.text
            .split('\n\n')
            .filter(Boolean)
            .slice(0, -1)
            .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
            .join('');
          return text !== Array.from({ length: EVENTS }, (_, k) => `t${k} `).join('');
        })
        .map(({ r, i }) => `#${i}: ${r.status} ${r.error ?? ''} …${r.text.slice(-120)}`);
      const scanner = new SecretScanner({ CLIENT_KEY, UPSTREAM_KEY });
      scanner.scan('stdout', svc.stdout);
      scanner.scan('stderr', svc.stderr);
      for (const r of replies) scanner.scan('reply', r.text);
      recordSummary('shutdown', {
        streamsInFlight: STREAMS,
        slowRepliesInFlight: SLOW_REPLIES,
        completed: replies.length - broken.length,
        broken: broken.length,
        newConnectionRefused: refusedAfterSignal,
        healthAfterSignal: healthAfterSignal.status || healthAfterSignal.error,
        exitCode: code,
        exitSignal: signal,
        exitMs,
        upstreamFinished: upstream.state.finished,
        secretHits: scanner.hits.length,
      });
      expect(refusedAfterSignal).toBe(true);
      expect(healthAfterSignal.status).toBe(0);
      expect(broken).toEqual([]);
      expect(upstream.state.finished).toBe(STREAMS + SLOW_REPLIES);
      expect([code, signal]).toEqual([0, null]);
      // The work in flight is done about 2 s after the signal; the exit follows it, not the end of the grace period.
      // (Clients keep their connections alive, as SDKs and proxies do: a connection idle after its reply must not hold the exit.)
      expect(exitMs).toBeLessThan(EVENTS * GAP_MS + 3000);
      expect(svc.stdout).toContain('draining');
      expect(svc.logLines().filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.status === 200)).toHaveLength(STREAMS + SLOW_REPLIES);
      expect(scanner.hits).toEqual([]);
    } finally {
      agent.destroy();
      if (svc.alive) svc.child.kill('SIGKILL');
    }
  });
});
