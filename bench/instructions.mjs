// Instructions per request, counted by valgrind's callgrind: a figure that, unlike CPU time on a shared VM,
// comes out within a few per cent from run to run, so two builds can be compared. Runs the mock upstream,
// then the service (or the minimal proxy) under callgrind with counting off; warms it up (V8 has optimised
// the hot path after ~15,000 requests), counts N requests at 8 connections, and prints the main thread's
// instructions per request by kind (V8's JIT code, builtins and runtime, JSON parsing, GC, libc, …).
// Background threads (V8's compiler and GC helpers) are counted apart: they vary with timing.
//   node bench/instructions.mjs [--entry dist/main.js | bench/minimal-proxy.mjs] [--requests 2000]
//                               [--warmup 15000] [--stream false] [--node-args "--max-semi-space-size=16"] [--keep]
// Needs valgrind (apt-get install -y valgrind); counting makes the service ~50× slower (a run takes ~1 min).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { guardChildren, jsonPortLine, listeningLine, onExitSync, serviceStartFlags, startNode, stopChild } from './lib/children.mjs';
import { cannon } from './lib/load.mjs';

const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: 'dist/main.js' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '15000' },
    stream: { type: 'string', default: 'true' },
    'node-args': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});
const entry = values.entry;
const n = Number(values.requests);
const isProxy = entry.includes('minimal-proxy');
const KEY = 'sk-bench-0123456789abcdef';

/** What a function's name says it is (callgrind sees JIT code only as addresses). */
function kindOf(fn) {
  if (fn.includes('compiler::') || /maglev|turbofan/i.test(fn)) return 'V8 compiler';
  if (fn.includes('JsonParser') || fn.includes('JsonParse')) return 'JSON.parse';
  if (fn.includes('JsonStringifier')) return 'JSON.stringify';
  if (/Scaveng|heap::|Heap::|Marking|::GC|Sweeper|Evacuat/.test(fn)) return 'GC';
  if (fn.startsWith('???:0x')) return 'JIT-compiled JavaScript';
  if (fn.includes('Builtins_')) return 'V8 builtins (ICs, promises, strings)';
  if (fn.includes('libc.so')) return 'libc';
  if (fn.includes('llhttp')) return 'llhttp';
  if (fn.includes('node::')) return 'Node C++';
  if (fn.includes('uv_')) return 'libuv';
  if (fn.includes('v8::')) return 'V8 runtime';
  return 'other';
}

function annotate(file) {
  const out = execFileSync('callgrind_annotate', ['--threshold=100', file], { maxBuffer: 256 * 2 ** 20 }).toString();
  const kinds = new Map();
  let total = 0;
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    const count = Number(m[1].replaceAll(',', ''));
    total += count;
    const kind = kindOf(m[2]);
    kinds.set(kind, (kinds.get(kind) ?? 0) + count);
  }
  return { total, kinds };
}

guardChildren();
const tmp = mkdtempSync(join(tmpdir(), 'bench-instructions-'));
if (!values.keep) onExitSync(() => rmSync(tmp, { recursive: true, force: true }));
const mock = await startNode('mock', [join(import.meta.dirname, 'mock-upstream.mjs')], { ready: jsonPortLine });
const configFile = join(tmp, 'config.yaml');
writeFileSync(configFile, `providers:\n  mock: {type: openai, baseURL: http://127.0.0.1:${mock.port}/v1}\nmodels:\n  - {name: bench-model, provider: mock}\n`);
const logFile = join(tmp, 'target.log');
// vgdb (behind callgrind_control) finds the process by user and host name: both pinned, for both sides.
const env = { ...process.env, USER: 'bench', LOGNAME: 'bench', HOST: '127.0.0.1' };
const nodeArgs = [...(isProxy ? [] : serviceStartFlags()), ...values['node-args'].split(' ').filter(Boolean)];
const target = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--separate-threads=yes',
    `--callgrind-out-file=${join(tmp, 'callgrind.out')}`,
    process.execPath,
    ...nodeArgs,
    entry,
  ],
  {
    stdio: ['ignore', openSync(logFile, 'w'), 'ignore'],
    env: { ...env, API_KEYS: KEY, CONFIG_FILE: configFile, LOG_LEVEL: 'warn', PORT: '0', NODE_ENV: 'production', UPSTREAM: `http://127.0.0.1:${mock.port}` },
  },
);
onExitSync(() => target.kill('SIGKILL'));
let port;
for (let i = 0; i < 1200 && !port && target.exitCode === null; i++) {
  await sleep(250);
  port = (isProxy ? jsonPortLine : listeningLine)(readFileSync(logFile, 'utf8'));
}
if (!port) throw new Error(`${entry} did not start under valgrind:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);

const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Say hello to the benchmark in one short sentence, please.' },
];
const body = JSON.stringify({ model: 'bench-model', messages, stream: values.stream === 'true', max_tokens: 64, temperature: 0.2 });
const control = (...args) => execFileSync('callgrind_control', [...args, String(target.pid)], { env, stdio: 'ignore' });

process.stderr.write(`instructions: warming ${entry} up with ${values.warmup} requests under valgrind\n`);
await cannon({ url, headers, body, connections: 8, amount: Number(values.warmup) });
control('-i', 'on');
const r = await cannon({ url, headers, body, connections: 8, amount: n });
control('-i', 'off');
control('-d');
await sleep(1000);
target.kill('SIGTERM');
await new Promise((resolve) => (target.exitCode !== null ? resolve() : target.once('exit', resolve)));
await stopChild(mock);
if (r.ok !== n) throw new Error(`${n - r.ok} of ${n} requests failed`);

// The dump holds one file per thread; thread 1 is the main (JavaScript) thread.
const dumps = readdirSync(tmp).filter((f) => /^callgrind\.out\.\d+-\d+$/.test(f));
const main = dumps.find((f) => f.endsWith('-01'));
if (!main) throw new Error(`no callgrind dump of the main thread in ${dumps.join(', ')}`);
const perReq = (x) => (x / n / 1000).toFixed(1).padStart(7);
const { total, kinds } = annotate(join(tmp, main));
let background = 0;
for (const f of dumps) if (f !== main) background += annotate(join(tmp, f)).total;
console.log(
  `${entry}${nodeArgs.length ? ` (${nodeArgs.join(' ')})` : ''}, ${values.stream === 'true' ? 'streamed' : 'non-streamed'}, ${n} requests at 8 connections`,
);
console.log(`${perReq(total)} k instructions per request on the main thread`);
for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`${perReq(count)} k  ${kind}`);
console.log(`${perReq(background)} k on background threads (V8 compiler, GC helpers; vary with timing)`);
if (values.keep) console.log(`callgrind dumps kept in ${tmp} (pid ${target.pid})`);
process.exit(0);
