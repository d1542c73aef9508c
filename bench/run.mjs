// The service's overhead, measured in one run with one load generator and the same request bodies:
//   direct    a fast local mock upstream (the floor)
//   proxy     a minimal node:http + undici proxy in front of it (what Node itself allows)
//   openai    this service, `openai` backend pointed at the mock
//   echo      this service's built-in `echo` backend
// each non-streamed and streamed, at each concurrency; then time to first byte, per-chunk delay,
// memory after N requests, 1,000 idle streams, an optional soak, and an optional CPU profile.
// Checks the budget and writes bench/results.json. Run: `npm run bench` (builds first), or
//   node bench/run.mjs [--duration 5] [--warmup 2] [--connections 1,50] [--quick] [--soak 60] [--profile]
// Every option also reads BENCH_<NAME> from the environment (BENCH_DURATION=1 …).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printReport } from './cpuprofile-report.mjs';
import { cpuMs, guardChildren, jsonPortLine, killAllNow, listeningLine, onExitSync, rssMb, serviceStartFlags, startNode, stopChild } from './lib/children.mjs';
import { cannon, chunkTiming, idleStreams, ttfbLoop } from './lib/load.mjs';
import { checkBudget, printBudget, printTable } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const OPTIONS = {
  duration: { type: 'string', default: '5', help: 'seconds per measured case' },
  warmup: { type: 'string', default: '2', help: 'seconds of unmeasured load before each case' },
  rounds: { type: 'string', default: '1', help: 'times the throughput matrix runs; each figure is the median (a shared machine is noisy)' },
  connections: { type: 'string', default: '1,50', help: 'concurrency levels (autocannon connections)' },
  ttfb: { type: 'string', default: '200', help: 'sequential requests per time-to-first-byte loop' },
  'gap-requests': { type: 'string', default: '25', help: 'streams of 8 chunks 20 ms apart, per target' },
  'memory-requests': { type: 'string', default: '10000', help: 'requests before the RSS check' },
  idle: { type: 'string', default: '1000', help: 'idle streams held open at once' },
  'idle-hold': { type: 'string', default: '5', help: 'seconds the idle streams are held (RSS sampled each second)' },
  soak: { type: 'string', default: '0', help: 'seconds of mixed load with RSS sampled every 5 s (0: skip)' },
  profile: {
    type: 'boolean',
    default: false,
    help: 'also profile a separate service (--cpu-prof into bench/out) during the 50-connection openai cases, non-streamed and streamed',
  },
  'log-level': { type: 'string', default: 'warn', help: "the service's LOG_LEVEL (info adds a log line per request)" },
  'service-entry': { type: 'string', default: 'dist/main.js', help: 'the service entry point (a patched build copy for an A/B run)' },
  'service-node-args': { type: 'string', default: '', help: 'node flags for the service beyond those `npm start` uses, e.g. "--max-old-space-size=128"' },
  quick: { type: 'boolean', default: false, help: 'short everything: 1 s cases, 0.5 s warm-up, 50-request loops' },
  out: { type: 'string', default: join(here, 'results.json'), help: 'where results are written' },
  help: { type: 'boolean', default: false },
};

function readOptions() {
  const { values } = parseArgs({ options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type }])), strict: true });
  const opts = {};
  for (const [k, o] of Object.entries(OPTIONS)) {
    const env = process.env[`BENCH_${k.toUpperCase().replace(/-/g, '_')}`];
    const raw = values[k] ?? (env !== undefined ? (o.type === 'boolean' ? env === 'true' || env === '1' : env) : o.default);
    opts[k] = raw;
  }
  if (opts.quick) {
    const set = (k, v) => {
      if (values[k] === undefined && process.env[`BENCH_${k.toUpperCase().replace(/-/g, '_')}`] === undefined) opts[k] = v;
    };
    set('duration', '1');
    set('warmup', '0.5');
    set('ttfb', '50');
    set('gap-requests', '5');
    set('idle-hold', '2');
  }
  const num = (k) => {
    const n = Number(opts[k]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a number, got '${opts[k]}'`);
    return n;
  };
  return {
    duration: num('duration'),
    warmup: num('warmup'),
    rounds: Math.max(1, Math.round(num('rounds'))),
    connections: String(opts.connections)
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
    ttfb: num('ttfb'),
    gapRequests: num('gap-requests'),
    memoryRequests: num('memory-requests'),
    idle: num('idle'),
    idleHold: num('idle-hold'),
    soak: num('soak'),
    profile: opts.profile === true,
    logLevel: opts['log-level'],
    serviceNodeArgs: [...serviceStartFlags(), ...String(opts['service-node-args']).split(' ').filter(Boolean)],
    serviceEntry: resolve(root, opts['service-entry']),
    quick: opts.quick === true,
    out: opts.out,
    help: values.help === true,
  };
}

const log = (s) => process.stderr.write(`${s}\n`);

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Say hello to the benchmark in one short sentence, please.' },
];
/** The one request body every target gets (only `model` differs for echo, and `stream`). */
const bodyFor = (model, stream) => JSON.stringify({ model, messages: MESSAGES, stream, max_tokens: 64, temperature: 0.2 });

function serviceConfigYaml(mockPort) {
  const base = `http://127.0.0.1:${mockPort}`;
  return [
    'providers:',
    `  mock: {type: openai, baseURL: ${base}/v1}`,
    `  mockgap: {type: openai, baseURL: ${base}/gap/v1}`,
    `  mockidle: {type: openai, baseURL: ${base}/idle/v1, timeoutMs: 600000}`,
    `  mocksplit: {type: openai, baseURL: ${base}/split/v1}`,
    '  echo: {type: echo}',
    'models:',
    '  - {name: bench-model, provider: mock}',
    '  - {name: bench-gap, provider: mockgap}',
    '  - {name: bench-idle, provider: mockidle}',
    '  - {name: bench-split, provider: mocksplit}',
    '  - {name: echo, provider: echo}',
    '',
  ].join('\n');
}

async function startService({ tmp, configFile, apiKey, metricsToken, logLevel, entry, nodeArgs = [], name = 'service' }) {
  return startNode(name, [...nodeArgs, entry], {
    env: {
      API_KEYS: apiKey,
      METRICS_TOKEN: metricsToken,
      CONFIG_FILE: configFile,
      LOG_LEVEL: logLevel,
      HOST: '127.0.0.1',
      PORT: '0',
      SHUTDOWN_GRACE_MS: '2000',
      NODE_ENV: 'production',
    },
    ready: listeningLine,
    logFile: join(tmp, `${name}.log`),
  });
}

/** One request to each target, checked by eye-level rules, so a misconfiguration fails loudly and early. */
async function sanityCheck(targets, headers) {
  for (const t of targets) {
    for (const stream of [false, true]) {
      const res = await fetch(t.url, { method: 'POST', headers, body: bodyFor(t.model, stream) });
      const text = await res.text();
      const ok =
        res.status === 200 &&
        (stream ? text.trimEnd().endsWith('data: [DONE]') && (text.match(/^data: /gm) ?? []).length >= 3 : Array.isArray(JSON.parse(text).choices));
      if (!ok) throw new Error(`sanity check failed for ${t.name} stream=${stream}: ${res.status} ${text.slice(0, 300)}`);
    }
  }
}

/** One case's figures over its rounds: the median of each (counts summed). */
function medianCase({ target, stream, connections, rounds }) {
  const med = (f) => {
    const xs = rounds
      .map(f)
      .filter((x) => x !== undefined)
      .sort((a, b) => a - b);
    return xs.length ? xs[Math.floor((xs.length - 1) / 2)] : undefined;
  };
  const sum = (f) => rounds.reduce((s, r) => s + (f(r) ?? 0), 0);
  return {
    target,
    stream,
    connections,
    rps: med((r) => r.rps),
    ok: sum((r) => r.ok),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    latency: {
      p50: med((r) => r.latency.p50),
      p90: med((r) => r.latency.p90),
      p99: med((r) => r.latency.p99),
      max: Math.max(...rounds.map((r) => r.latency.max ?? 0)),
    },
    cpuUsPerReq: med((r) => r.cpuUsPerReq),
    mockCpuUsPerReq: med((r) => r.mockCpuUsPerReq),
    upstreamConnections: sum((r) => r.upstreamConnections),
    serviceRssMb: rounds[rounds.length - 1].serviceRssMb,
    rounds,
  };
}

/** The V8 heap and external memory as prom-client reports them on /metrics (MB), to split RSS. */
async function heapBreakdown({ port, metricsToken }) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const get = (name) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'm').exec(text);
      return m ? Math.round((Number(m[1]) / 2 ** 20) * 10) / 10 : undefined;
    };
    return {
      heapTotalMb: get('nodejs_heap_size_total_bytes'),
      heapUsedMb: get('nodejs_heap_size_used_bytes'),
      externalMb: get('nodejs_external_memory_bytes'),
    };
  } catch {
    return {};
  }
}

function machineInfo() {
  const c = cpus();
  return {
    cpuModel: c[0]?.model,
    cpuCount: c.length,
    memoryTotalMb: Math.round(totalmem() / 2 ** 20),
    memoryFreeMbAtStart: Math.round(freemem() / 2 ** 20),
    node: process.version,
    kernel: release(),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}

async function main() {
  const opts = readOptions();
  if (opts.help) {
    for (const [k, o] of Object.entries(OPTIONS)) if (o.help) log(`  --${k.padEnd(16)} ${o.help} (default ${o.default})`);
    return;
  }
  if (!existsSync(opts.serviceEntry)) throw new Error(`${opts.serviceEntry} is missing: run \`npm run build\` (or \`npm run bench\`, which builds first)`);
  guardChildren();
  const tmp = await mkdtemp(join(tmpdir(), 'gateway-bench-'));
  onExitSync(() => rmSync(tmp, { recursive: true, force: true }));
  const results = { machine: machineInfo(), options: opts, cases: [], ttfb: [], chunkTiming: {}, memory: {}, idleStreams: {}, soak: null, profile: null };
  let service;
  try {
    log(`bench: ${results.machine.cpuCount}x ${results.machine.cpuModel}, node ${process.version}; ${opts.duration}s per case after ${opts.warmup}s warm-up`);
    const mock = await startNode('mock', [join(here, 'mock-upstream.mjs')], { ready: jsonPortLine, ipc: true });
    const proxy = await startNode('proxy', [join(here, 'minimal-proxy.mjs')], {
      env: { UPSTREAM: `http://127.0.0.1:${mock.port}` },
      ready: jsonPortLine,
      ipc: true,
    });
    const configFile = join(tmp, 'gateway.yaml');
    await writeFile(configFile, serviceConfigYaml(mock.port));
    const apiKey = `sk-bench-${randomBytes(12).toString('hex')}`;
    // /metrics is served only behind METRICS_TOKEN.
    const metricsToken = `bench-metrics-${randomBytes(12).toString('hex')}`;
    const svcOpts = { tmp, configFile, apiKey, metricsToken, logLevel: opts.logLevel, entry: opts.serviceEntry, nodeArgs: opts.serviceNodeArgs };
    service = await startService(svcOpts);
    results.memory.rssAtStartMb = rssMb(service.pid);
    results.memory.atStart = await heapBreakdown({ port: service.port, metricsToken });
    log(`bench: mock :${mock.port}, proxy :${proxy.port}, service :${service.port} (pid ${service.pid}, RSS ${results.memory.rssAtStartMb} MB)`);

    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const mockStats = async () => (await fetch(`http://127.0.0.1:${mock.port}/stats`)).json();
    const chat = (port, prefix = '') => `http://127.0.0.1:${port}${prefix}/v1/chat/completions`;
    const targets = [
      { name: 'direct', url: chat(mock.port), model: 'bench-model', pid: mock.pid },
      { name: 'proxy', url: chat(proxy.port), model: 'bench-model', pid: proxy.pid },
      { name: 'openai', url: chat(service.port), model: 'bench-model', service: true, pid: service.pid },
      { name: 'echo', url: chat(service.port), model: 'echo', service: true, pid: service.pid },
    ];
    await sanityCheck(targets, headers);

    // Memory after N requests, counted from a fresh start (half streamed, half not).
    if (opts.memoryRequests > 0) {
      log(`bench: ${opts.memoryRequests} requests (openai, half streamed) at 50 connections for the RSS check`);
      const r = await cannon({
        url: targets[2].url,
        headers,
        requests: [{ body: bodyFor('bench-model', false) }, { body: bodyFor('bench-model', true) }],
        connections: 50,
        amount: opts.memoryRequests,
      });
      await sleep(1000);
      results.memory.afterRequests = {
        requests: r.ok,
        non2xx: r.non2xx,
        errors: r.errors,
        rssMb: rssMb(service.pid),
        ...(await heapBreakdown({ port: service.port, metricsToken })),
      };
    }

    // Throughput and latency: targets interleaved per (stream, connections), so drift hits all alike;
    // with --rounds N the whole matrix runs N times and each figure is the median over the rounds.
    const byCase = new Map();
    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.rounds > 1) log(`bench: round ${round}/${opts.rounds}`);
      for (const stream of [false, true]) {
        for (const connections of opts.connections) {
          for (const t of targets) {
            const body = bodyFor(t.model, stream);
            if (opts.warmup > 0) await cannon({ url: t.url, headers, body, connections, duration: opts.warmup });
            const conns0 = (await mockStats()).connections;
            const cpu0 = cpuMs(t.pid);
            const mock0 = cpuMs(mock.pid);
            const r = await cannon({ url: t.url, headers, body, connections, duration: opts.duration });
            // CPU of the process that answers (mock for direct, proxy, service), per request.
            const cpuUsPerReq = r.ok ? Math.round(((cpuMs(t.pid) - cpu0) * 1000) / r.ok) : undefined;
            const mockCpuUsPerReq = r.ok ? Math.round(((cpuMs(mock.pid) - mock0) * 1000) / r.ok) : undefined;
            // Connections the mock accepted during the case: the client's own for direct, the pool's otherwise.
            const upstreamConnections = (await mockStats()).connections - conns0;
            const row = { round, ...r, cpuUsPerReq, mockCpuUsPerReq, upstreamConnections, serviceRssMb: t.service ? rssMb(service.pid) : undefined };
            const key = `${t.name}|${stream}|${connections}`;
            if (!byCase.has(key)) byCase.set(key, { target: t.name, stream, connections, rounds: [] });
            byCase.get(key).rounds.push(row);
            log(
              `  ${t.name.padEnd(7)} stream=${String(stream).padEnd(5)} c=${String(connections).padEnd(3)} ${String(r.rps).padStart(6)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  cpu ${cpuUsPerReq} µs/req  upstream conns ${upstreamConnections}${r.non2xx || r.errors ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}`,
            );
          }
        }
      }
    }
    for (const c of byCase.values()) results.cases.push(medianCase(c));

    // Time to first byte: sequential, concurrency 1.
    if (opts.ttfb > 0) {
      for (const stream of [false, true]) {
        for (const t of targets) {
          const r = await ttfbLoop({ url: t.url, headers, body: bodyFor(t.model, stream), n: opts.ttfb });
          results.ttfb.push({ target: t.name, stream, ...r });
          log(`  ttfb ${t.name.padEnd(7)} stream=${String(stream).padEnd(5)} p50 ${r.ttfb.p50} ms  p99 ${r.ttfb.p99} ms  (whole reply p50 ${r.total.p50} ms)`);
        }
      }
    }

    // No buffering: chunks 20 ms apart, stamped by the mock, timed on arrival.
    if (opts.gapRequests > 0) {
      const gapTargets = [
        { name: 'direct', url: chat(mock.port, '/gap'), model: 'bench-gap' },
        { name: 'proxy', url: chat(proxy.port, '/gap'), model: 'bench-gap' },
        { name: 'openai', url: chat(service.port), model: 'bench-gap' },
      ];
      for (const t of gapTargets) {
        const r = await chunkTiming({ url: t.url, headers, body: bodyFor(t.model, true), n: opts.gapRequests });
        results.chunkTiming[t.name] = r;
        log(
          `  chunks ${t.name.padEnd(7)} ${r.frames} frames: transit p50 ${r.transit.p50} ms p99 ${r.transit.p99} ms max ${r.transit.max} ms; gap p50 ${r.gap.p50} ms; most frames in one read ${r.maxFramesPerRead}`,
        );
      }
    }

    // Keep-alive upstream: streams framed as real servers send them ([DONE], then the response's end in a
    // later read); sequential requests should all ride one pooled upstream connection.
    if (opts.ttfb > 0) {
      results.upstreamReuse = {};
      for (const t of [
        { name: 'proxy', url: chat(proxy.port, '/split'), model: 'bench-split' },
        { name: 'openai', url: chat(service.port), model: 'bench-split' },
      ]) {
        const before = (await mockStats()).connections;
        const r = await ttfbLoop({ url: t.url, headers, body: bodyFor(t.model, true), n: 100, warmup: 0 });
        const opened = (await mockStats()).connections - before;
        results.upstreamReuse[t.name] = { requests: 100, failures: r.failures, upstreamConnectionsOpened: opened };
        log(`  reuse ${t.name.padEnd(7)} 100 sequential streams ([DONE] before the end): ${opened} upstream connections opened`);
      }
    }

    // Soak: mixed load, RSS every 5 s.
    if (opts.soak > 0) {
      log(`bench: soak ${opts.soak}s (openai, half streamed, 50 connections), RSS every 5 s`);
      const samples = [{ t: 0, rssMb: rssMb(service.pid) }];
      const t0 = Date.now();
      let ticks = 0;
      const r = await cannon({
        url: targets[2].url,
        headers,
        requests: [{ body: bodyFor('bench-model', false) }, { body: bodyFor('bench-model', true) }],
        connections: 50,
        duration: opts.soak,
        onTick: () => {
          if (++ticks % 5 === 0) samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMb: rssMb(service.pid) });
        },
      });
      await sleep(1000);
      samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMb: rssMb(service.pid) });
      results.soak = { seconds: opts.soak, requests: r.ok, rps: r.rps, non2xx: r.non2xx, errors: r.errors, samples };
      log(`  soak: ${r.ok} requests, RSS ${samples.map((s) => s.rssMb).join(' → ')} MB`);
    }
    // Idle streams: many open client connections whose upstream says nothing.
    if (opts.idle > 0) {
      log(`bench: holding ${opts.idle} idle streams for ${opts.idleHold}s`);
      const stats = mockStats;
      const before = await stats();
      const rssBeforeMb = rssMb(service.pid);
      const r = await idleStreams({
        url: chat(service.port),
        headers,
        body: bodyFor('bench-idle', true),
        count: opts.idle,
        holdSeconds: opts.idleHold,
        sample: async () => ({ rssMb: rssMb(service.pid), upstreamOpen: (await stats()).idleOpen }),
      });
      // The upstream requests must be aborted once their clients are gone.
      let after = await stats();
      for (let i = 0; i < 50 && after.idleOpen > 0; i++) {
        await sleep(100);
        after = await stats();
      }
      const probe = await fetch(targets[2].url, { method: 'POST', headers, body: bodyFor('bench-model', false) });
      await probe.text();
      results.idleStreams = {
        rssBeforeMb,
        ...r,
        maxRssMb: Math.max(...r.samples.map((s) => s.rssMb ?? 0)),
        maxUpstreamOpen: Math.max(...r.samples.map((s) => s.upstreamOpen)),
        upstreamOpened: after.idleOpened - before.idleOpened,
        upstreamStillOpenAfterClientsLeft: after.idleOpen,
        serviceAnswersAfter: probe.status,
      };
      log(
        `  idle: ${r.sent} sent, ${r.stillOpen} still open at the end, ${results.idleStreams.maxUpstreamOpen} reached the upstream at once; RSS max ${results.idleStreams.maxRssMb} MB; upstream open after clients left: ${after.idleOpen}`,
      );
    }

    results.memory.rssAtEndMb = rssMb(service.pid);
    results.memory.atEnd = await heapBreakdown({ port: service.port, metricsToken });
    results.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
    results.memory.mockRssMb = rssMb(mock.pid);
    results.memory.proxyRssMb = rssMb(proxy.pid);
    await stopChild(service);
    service = undefined;

    // CPU profiles of a separate service instance (profiling slows it; the numbers above are unprofiled).
    // Only the samples taken during the measured run count (V8's profile clock is CLOCK_MONOTONIC, as is hrtime).
    if (opts.profile) {
      const outDir = join(here, 'out');
      mkdirSync(outDir, { recursive: true });
      results.profile = {};
      for (const stream of [false, true]) {
        const beforeFiles = new Set(readdirSync(outDir));
        const prof = await startService({
          ...svcOpts,
          name: 'service-profiled',
          nodeArgs: [...opts.serviceNodeArgs, '--cpu-prof', `--cpu-prof-dir=${outDir}`],
        });
        const url = chat(prof.port);
        const body = bodyFor('bench-model', stream);
        if (opts.warmup > 0) await cannon({ url, headers, body, connections: 50, duration: opts.warmup });
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        const r = await cannon({ url, headers, body, connections: 50, duration: opts.duration });
        const toUs = Number(process.hrtime.bigint() / 1000n);
        const kind = stream ? 'streamed' : 'nonStreamed';
        log(`bench: profiled service, openai ${kind} c=50: ${r.rps} req/s (profiler on)`);
        await stopChild(prof, 15_000);
        const fresh = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile') && !beforeFiles.has(f));
        if (!fresh.length) throw new Error('the profiled service wrote no .cpuprofile');
        const file = join(outDir, fresh[0]);
        log(`\n#### profile: openai ${kind}, 50 connections`);
        const report = printReport(file, 25, process.stderr, { fromUs, toUs, requests: r.ok });
        results.profile[kind] = { rpsWhileProfiled: r.rps, requests: r.ok, window: { fromUs, toUs }, ...report };
      }
    }

    const budget = checkBudget(results, opts);
    results.budget = budget;
    printTable(results);
    printBudget(budget);
    await writeFile(opts.out, `${JSON.stringify(results, null, 2)}\n`);
    log(`\nbench: results written to ${opts.out}`);
    process.exitCode = 0;
  } finally {
    if (service) await stopChild(service).catch(() => undefined);
    killAllNow();
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

main().catch((err) => {
  log(`bench failed: ${err?.stack ?? err}`);
  killAllNow();
  process.exit(1);
});
