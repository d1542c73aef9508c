// The load the benchmark applies: autocannon for throughput and latency, small node:http loops for
// time to first byte and per-chunk arrival, and a crowd of idle streams.
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { summary } from './stats.mjs';

const wallNow = () => performance.timeOrigin + performance.now();

/**
 * One autocannon run. Latencies are taken from its per-response event (float ms): its own
 * histogram keeps whole milliseconds, too coarse for a 1 ms budget.
 * `requests`: optional list of {body} cycled per connection (a mixed load); `amount`: stop after so many.
 */
export async function cannon({ url, headers, body, requests, connections, duration, amount, onTick }) {
  const latencies = [];
  const opts = {
    url,
    method: 'POST',
    headers,
    body,
    connections,
    pipelining: 1,
    timeout: 30,
    ...(amount ? { amount } : { duration }),
    ...(requests ? { requests: requests.map((r) => ({ method: 'POST', headers, body: r.body })) } : {}),
  };
  const started = performance.now();
  let tick;
  const instance = autocannon(opts);
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  if (onTick) tick = setInterval(onTick, 1000);
  const result = await new Promise((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  }).finally(() => clearInterval(tick));
  const seconds = (performance.now() - started) / 1000;
  const ok = result['2xx'];
  return {
    rps: Math.round(ok / seconds),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
    seconds: Math.round(seconds * 100) / 100,
    latency: summary(latencies),
  };
}

function post(agent, url, headers, body, onResponse) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      onResponse(res, resolve, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sequential requests at concurrency 1: time from the request's end to the first body byte,
 * and to the whole reply. A few unmeasured requests first.
 */
export async function ttfbLoop({ url, headers, body, n, warmup = 20 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ttfb = [];
  const total = [];
  let failures = 0;
  try {
    for (let i = 0; i < warmup + n; i++) {
      let t0;
      const r = await new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
          let first;
          res.on('data', () => {
            first ??= performance.now();
          });
          res.on('end', () => resolve({ status: res.statusCode, first, end: performance.now() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body, () => {
          t0 = performance.now();
        });
      });
      if (r.status !== 200 || r.first === undefined) {
        failures++;
        continue;
      }
      if (i < warmup) continue;
      ttfb.push(r.first - t0);
      total.push(r.end - t0);
    }
  } finally {
    agent.destroy();
  }
  return { ttfb: summary(ttfb), total: summary(total), failures };
}

/**
 * Streams whose upstream sends chunks GAP_MS apart, each stamped with its send time: for every
 * chunk, its transit (arrival − send, wall clock of the same machine) and the gap since the chunk
 * before; and how many frames arrived in one read (more than one means something held them back).
 */
export async function chunkTiming({ url, headers, body, n, warmup = 3 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const transit = [];
  const gaps = [];
  let maxFramesPerRead = 0;
  let frames = 0;
  let failures = 0;
  try {
    for (let i = 0; i < warmup + n; i++) {
      const measured = i >= warmup;
      await post(agent, url, headers, body, (res, resolve, reject) => {
        let buffer = '';
        let lastArrival;
        res.setEncoding('utf8');
        res.on('data', (text) => {
          const arrived = wallNow();
          buffer += text;
          let end;
          let inRead = 0;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const m = /"bench_sent_at":([\d.]+)/.exec(frame);
            if (!m || !measured) continue;
            inRead++;
            frames++;
            transit.push(arrived - Number(m[1]));
            if (lastArrival !== undefined) gaps.push(arrived - lastArrival);
            lastArrival = arrived;
          }
          maxFramesPerRead = Math.max(maxFramesPerRead, inRead);
        });
        res.on('end', () => {
          if (res.statusCode !== 200 && measured) failures++;
          resolve();
        });
        res.on('error', reject);
      });
    }
  } finally {
    agent.destroy();
  }
  return { frames, failures, maxFramesPerRead, transit: summary(transit), gap: summary(gaps) };
}

/**
 * Opens `count` streaming requests whose upstream stays silent, holds them for `holdSeconds`
 * while sampling `sample()` every second, then drops them all. Resolves with how many were held.
 */
export async function idleStreams({ url, headers, body, count, holdSeconds, sample, openTimeoutMs = 30_000 }) {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const reqs = [];
  let sent = 0;
  let failed = 0;
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      answered++;
      res.resume();
    });
    req.on('finish', () => sent++);
    req.on('error', () => failed++);
    req.end(body);
    reqs.push(req);
    if (i % 100 === 99) await sleep(10);
  }
  const openDeadline = Date.now() + openTimeoutMs;
  while (sent + failed < count && Date.now() < openDeadline) await sleep(50);
  await sleep(1000);
  const samples = [];
  for (let s = 0; s < holdSeconds; s++) {
    samples.push(await sample());
    await sleep(1000);
  }
  const stillOpen = reqs.filter((r) => !r.destroyed && r.socket && !r.socket.destroyed).length;
  for (const r of reqs) r.destroy();
  agent.destroy();
  return { requested: count, sent, failed, answered, stillOpen, samples };
}
