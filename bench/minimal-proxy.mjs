// What Node itself allows, the leanest correct proxy: node:http in front of an undici keep-alive Pool,
// no framework, no auth, no parsing. Forwards the request body to UPSTREAM (same path) and relays the
// reply piece by piece as it arrives (streams included), waiting only when the client's socket is full;
// the upstream request is aborted when the client goes away. Listens on 127.0.0.1:<PORT or a free port>, prints {"port":N} when ready.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { Pool } from 'undici';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:8001');
// The same pool settings as the service's upstream pool (src/providers/http/upstream-pool.ts).
const pool = new Pool(upstream.origin, {
  connections: Number(process.env.POOL_CONNECTIONS ?? 256),
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 300_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    pool
      .request({
        method: req.method,
        path: req.url,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: req.headers.accept ?? '*/*' },
        body: parts.length ? Buffer.concat(parts) : undefined,
        signal: ac.signal,
      })
      .then(
        ({ statusCode, headers, body }) => {
          const out = {};
          for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
          res.writeHead(statusCode, out);
          return relay(body, res);
        },
        (err) => {
          if (res.headersSent) return res.destroy();
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err?.message ?? err) } }));
        },
      );
  });
});
/** The reply's body written as it comes; a full socket is waited for, a failure ends the response. */
async function relay(body, res) {
  try {
    for await (const piece of body) if (!res.write(piece)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    res.end();
  } catch {
    res.destroy();
  }
}

server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
