import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN_JS = join(ROOT, 'dist/main.js');

/** Source files newer than dist/main.js: the child would run stale code (run `npm run build`). */
export function staleBuildWarning(): string | undefined {
  if (!existsSync(MAIN_JS)) return `${MAIN_JS} is missing: run \`npm run build\` first`;
  const built = statSync(MAIN_JS).mtimeMs;
  const newer: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.spec.ts') && statSync(p).mtimeMs > built) newer.push(p.slice(ROOT.length + 1));
    }
  };
  walk(join(ROOT, 'src'));
  return newer.length ? `dist/ is older than ${newer.slice(0, 5).join(', ')}${newer.length > 5 ? ' …' : ''}: run \`npm run build\`` : undefined;
}

/**
 * A preload for the child, test harness only: with --expose-gc, SIGUSR2 runs a full garbage collection, so a
 * memory figure tells retained memory from garbage the process has not collected yet.
 */
function gcHook(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gw-gc-hook-')), 'gc-on-sigusr2.cjs');
  writeFileSync(path, "process.on('SIGUSR2', () => { global.gc(); global.gc(); });\n");
  return path;
}

/** The built service (`node dist/main.js`) as a child process on 127.0.0.1, so a crash or an exit code is visible. */
export class ServiceProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  port = 0;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(
    env: Record<string, string>,
    readonly gcOnSignal: boolean,
  ) {
    this.child = spawn(process.execPath, [...(gcOnSignal ? ['--expose-gc', '--require', gcHook()] : []), MAIN_JS], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  /** Starts it and waits (bounded) for its "Listening on" line. */
  static async start(env: Record<string, string>, opts: { timeoutMs?: number; gcOnSignal?: boolean } = {}): Promise<ServiceProcess> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const warning = staleBuildWarning();
    if (warning) console.warn(`[reliability] ${warning}`);
    const svc = new ServiceProcess(env, opts.gcOnSignal ?? false);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = /Listening on http:\/\/[^:]+:(\d+)/.exec(svc.stdout);
      if (m) {
        svc.port = Number(m[1]);
        return svc;
      }
      if (svc.child.exitCode !== null || Date.now() > until) {
        svc.child.kill('SIGKILL');
        throw new Error(`the service did not start: ${svc.stdout}${svc.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory of the process in MB (Linux /proc). */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  }

  /** Runs a full garbage collection in the child (started with gcOnSignal) and waits for it to settle. */
  async collectGarbage(): Promise<void> {
    if (!this.gcOnSignal) throw new Error('started without gcOnSignal');
    this.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
  }

  /** Parsed JSON log lines from stdout (other lines skipped). */
  logLines(): Record<string, any>[] {
    const out: Record<string, any>[] = [];
    for (const line of this.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a line cut by a kill: not a log line
      }
    }
    return out;
  }

  /** SIGTERM and wait (bounded) for the exit; SIGKILL if it does not come. */
  async stop(timeoutMs = 15_000): Promise<[number | null, NodeJS.Signals | null]> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
