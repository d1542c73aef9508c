import { createServer, type Server } from 'node:http';
import { writeConfig } from '../support/config-file.js';
import { chunk, completion, reply, sleep } from '../support/mock-upstream.js';
import { clientAgent, send } from './support/http-client.js';
import { prng } from './support/fuzz-corpus.js';
import { metricSamples, metricValue } from './support/metrics.js';
import { CLIENT_KEY, METRICS_TOKEN, SecretScanner, UPSTREAM_KEY } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { recordSummary } from './support/summary.js';

const SOAK_SECONDS = Number(process.env.RELIABILITY_SOAK_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.RELIABILITY_SOAK_CONCURRENCY ?? 200);
/** One request in FAIL_EVERY has its first upstream try answered 503 (2 %): the retry must hide it. */
const FAIL_EVERY = 50;

/**
 * An OpenAI-compatible upstream for the soak: answers with the request's own id (so a reply that went to
 * the wrong client shows), streams in a few events, and injects a 503 on the first try of 2 % of requests.
 */
function soakUpstream() {
  const counts = { requests: 0, injected: 0, streams: 0 };
  const failedOnce = new Set<string>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    // A throw in the handler ends the reply instead of becoming an unhandled rejection.
    req.on('end', () => {
      void (async () => {
        if (!req.url?.endsWith('/chat/completions')) return reply(res, 200, { object: 'list', data: [] });
        counts.requests++;
        const json = JSON.parse(Buffer.concat(parts).toString('utf8'));
        const id = String(json.user);
        const seq = Number(id.split('-')[1]);
        if (seq % FAIL_EVERY === 0 && !failedOnce.has(id)) {
          failedOnce.add(id);
          counts.injected++;
          return reply(res, 503, { error: { message: 'injected overload', type: 'server_error' } });
        }
        const answer = `reply:${id}`;
        if (!json.stream) return reply(res, 200, completion(json.model, answer));
        counts.streams++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const model = json.model;
        res.write(`data: ${JSON.stringify(chunk(model, { role: 'assistant', content: '' }))}\n\n`);
        for (const piece of [answer.slice(0, 6), answer.slice(6, 12), answer.slice(12)]) {
          await new Promise((r) => setImmediate(r));
          if (res.destroyed) return;
          res.write(`data: ${JSON.stringify(chunk(model, { content: piece }))}\n\n`);
        }
        res.write(`data: ${JSON.stringify(chunk(model, {}, 'stop'))}\n\n`);
        if (json.stream_options?.include_usage)
          res.write(`data: ${JSON.stringify({ ...chunk(model, {}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      })().catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    });
  });
  server.keepAliveTimeout = 120_000;
  return { server, counts };
}

describe('part 4: soak — mixed streaming and non-streaming traffic through the built service', () => {
  const upstream = soakUpstream();
  let svc: ServiceProcess;

  beforeAll(async () => {
    await new Promise<void>((r) => upstream.server.listen(0, '127.0.0.1', r));
    const config = writeConfig(`
providers:
  up:
    type: openai
    baseURL: http://127.0.0.1:${(upstream.server.address() as { port: number }).port}/v1
    apiKey: \${REL_UPSTREAM_KEY}
    timeoutMs: 10000
    maxRetries: 2
    retryBackoffMs: 5
    cooldownAfterFailures: 1000000
models:
  - name: soak
    provider: up
`);
    svc = await ServiceProcess.start(
      { API_KEYS: CLIENT_KEY, CONFIG_FILE: config, REL_UPSTREAM_KEY: UPSTREAM_KEY, METRICS_TOKEN, LOG_LEVEL: 'info' },
      { gcOnSignal: true },
    );
  });
  afterAll(async () => {
    await svc?.stop();
    await new Promise((r) => upstream.server.close(r));
  });

  it(`${SOAK_SECONDS} s at concurrency ${CONCURRENCY}: zero errors, zero truncated streams, and every count reconciles`, async () => {
    const scanner = new SecretScanner({ CLIENT_KEY, UPSTREAM_KEY, METRICS_TOKEN });
    const agent = clientAgent(CONCURRENCY);
    const rand = prng(4242);
    const errors: string[] = [];
    const latencies: number[] = [];
    let requests = 0;
    let streams = 0;
    let truncated = 0;
    let bytes = 0;
    let seq = 0;
    await svc.collectGarbage();
    const rssBefore = svc.rssMb();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, svc.rssMb())), 500);
    const started = Date.now();
    const until = started + SOAK_SECONDS * 1000;
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, worker) => {
          while (Date.now() < until) {
            const id = `w${worker}-${seq++}`;
            const stream = rand() < 0.5;
            const usage = stream && rand() < 0.5;
            const body = JSON.stringify({
              model: 'soak',
              user: id,
              stream,
              ...(usage ? { stream_options: { include_usage: true } } : {}),
              messages: [{ role: 'user', content: `soak ${id}` }],
            });
            const r = await send(`${svc.url}/v1/chat/completions`, {
              headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
              body,
              agent,
              timeoutMs: 30_000,
            });
            requests++;
            bytes += r.bytes;
            latencies.push(r.ms);
            if (r.status !== 200 || r.error) {
              if (errors.length < 20) errors.push(`${id}: ${r.status} ${r.error ?? ''} ${r.text.slice(0, 200)}`);
              else errors.push('…');
              scanner.scan(`error reply ${id}`, r.text);
              continue;
            }
            scanner.scan(`reply ${id}`, r.text);
            if (!stream) {
              if (r.json?.choices?.[0]?.message?.content !== `reply:${id}` || r.json.model !== 'soak')
                errors.push(`${id}: wrong reply ${r.text.slice(0, 200)}`);
              continue;
            }
            streams++;
            if (!r.text.endsWith('data: [DONE]\n\n')) {
              truncated++;
              errors.push(`${id}: stream without [DONE]: ${r.text.slice(-200)}`);
              continue;
            }
            const events = r.text
              .split('\n\n')
              .filter(Boolean)
              .slice(0, -1)
              .map((e) => JSON.parse(e.slice(6)));
            const text = events.map((e) => e.choices[0]?.delta?.content ?? '').join('');
            if (text !== `reply:${id}` || events.some((e) => e.model !== 'soak' || e.error) || (usage && !events.at(-1).usage))
              errors.push(`${id}: wrong stream ${r.text.slice(0, 300)}`);
          }
        }),
      );
    } finally {
      clearInterval(sampler);
      agent.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    await sleep(300);
    const metrics = (await send(`${svc.url}/metrics`, { method: 'GET', headers: { authorization: `Bearer ${METRICS_TOKEN}` }, agent: false })).text;
    const retries = metricSamples(metrics, 'gateway_upstream_retries_total');
    const retriesTotal = Object.values(retries).reduce((a, b) => a + b, 0);
    const served = metricValue(metrics, 'gateway_requests_total{model="soak",provider="up",status="200"}');
    await svc.collectGarbage();
    const rssAfter = svc.rssMb();
    latencies.sort((a, b) => a - b);
    const figures = {
      seconds: Math.round(seconds * 10) / 10,
      concurrency: CONCURRENCY,
      clientRequests: requests,
      streams,
      nonStreamed: requests - streams,
      requestsPerSecond: Math.round(requests / seconds),
      p50Ms: latencies[Math.floor(latencies.length * 0.5)],
      p99Ms: latencies[Math.floor(latencies.length * 0.99)],
      maxMs: latencies.at(-1),
      bytesReceived: bytes,
      errors: errors.length,
      truncatedStreams: truncated,
      upstreamRequests: upstream.counts.requests,
      injected503: upstream.counts.injected,
      retriesInMetrics: retries,
      servedInMetrics: served,
      inFlightAfter: { requests: metricValue(metrics, 'gateway_in_flight_requests'), streams: metricValue(metrics, 'gateway_in_flight_streams') },
      rssBeforeMb: Math.round(rssBefore),
      rssPeakMb: Math.round(rssPeak),
      rssAfterGcMb: Math.round(rssAfter),
    };
    const logLines = svc.logLines().filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions');
    scanner.scan('stdout', svc.stdout);
    scanner.scan('stderr', svc.stderr);
    recordSummary('soak', { ...figures, requestLogLines: logLines.length, secretHits: scanner.hits.length });

    expect(errors.slice(0, 20)).toEqual([]);
    expect(truncated).toBe(0);
    expect(requests).toBeGreaterThan(SOAK_SECONDS * 50);
    // Every client request reached the upstream once, plus one more try per retry; the injected 503s are the 5xx retries.
    expect(upstream.counts.requests).toBe(requests + retriesTotal);
    expect(retries['{provider="up",reason="5xx"}']).toBe(upstream.counts.injected);
    expect(upstream.counts.injected).toBeGreaterThan(0);
    expect(retriesTotal).toBe(upstream.counts.injected);
    expect(served).toBe(requests);
    expect(logLines.length).toBe(requests);
    expect(figures.inFlightAfter).toEqual({ requests: 0, streams: 0 });
    expect(rssAfter - rssBefore).toBeLessThan(300);
    expect(scanner.hits).toEqual([]);
  });
});
