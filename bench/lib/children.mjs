// Child processes of the benchmark (mock, proxy, service): started with a readiness check, each
// tracked so that every one of them is stopped on the way out, whatever the way out is.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('../../', import.meta.url);

/** The node flags `npm start` runs the service with (package.json's start script): benchmarks measure the service as it is run. */
export function serviceStartFlags() {
  const start = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start;
  const words = start.split(' ');
  return words.slice(words.indexOf('node') + 1, words.indexOf('dist/main.js'));
}

const running = new Set();
const exitHooks = [];

/** Runs `fn` (synchronous) when the process exits, however it exits. */
export function onExitSync(fn) {
  exitHooks.push(fn);
}

/** Kills (SIGKILL) whatever is still running; synchronous, so it is safe in an 'exit' handler. */
export function killAllNow() {
  for (const child of running) {
    try {
      child.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

let guarded = false;
/** Makes sure no child outlives the benchmark: normal exit, an error, Ctrl-C or SIGTERM. */
export function guardChildren() {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => {
    killAllNow();
    for (const fn of exitHooks) {
      try {
        fn();
      } catch {
        // best effort on the way out
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

/**
 * Starts `node <args>` and waits until `ready(text)` finds the port in its output.
 * `logFile`: the child's stdout goes to this file instead of a pipe (so a chatty service does not
 * cost the benchmark's event loop); readiness is then polled from the file.
 */
export async function startNode(name, args, { env = {}, ready, logFile, timeoutMs = 60_000, ipc = false } = {}) {
  const outFd = logFile ? openSync(logFile, 'w') : 'pipe';
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', outFd, 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  if (typeof outFd === 'number') closeSync(outFd);
  const child = { name, proc, pid: proc.pid, port: undefined, stdout: '', stderr: '', exited: false, logFile };
  running.add(child);
  proc.on('exit', (code, signal) => {
    child.exited = true;
    child.exitCode = code;
    child.exitSignal = signal;
    running.delete(child);
  });
  const keepTail = (key) => (buf) => {
    child[key] = (child[key] + buf.toString('utf8')).slice(-20_000);
  };
  proc.stdout?.on('data', keepTail('stdout'));
  proc.stderr.on('data', keepTail('stderr'));

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = logFile ? await readFile(logFile, 'utf8').catch(() => '') : child.stdout;
    const port = ready(text);
    if (port) {
      child.port = port;
      return child;
    }
    if (child.exited) break;
    await sleep(25);
  }
  const tail = logFile ? safeRead(logFile) : child.stdout;
  await stopChild(child);
  throw new Error(
    `${name} did not start (${child.exited ? `exit ${child.exitCode ?? child.exitSignal}` : 'timed out'}):\n${tail.slice(-2000)}\n${child.stderr.slice(-2000)}`,
  );
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child, graceMs = 8000) {
  if (!child || child.exited) return;
  const exited = once(child.proc, 'exit');
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** `{"port":N}` on the first line (mock and proxy). */
export const jsonPortLine = (text) => {
  const m = /\{"port":(\d+)\}/.exec(text);
  return m ? Number(m[1]) : undefined;
};

/** The service's "Listening on http://host:port" line. */
export const listeningLine = (text) => {
  const m = /Listening on http:\/\/[^:\s]+:(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
};

/** Resident set size of a process, in MB, from /proc/<pid>/status (VmRSS). */
export function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS_PER_S = 100;
/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
