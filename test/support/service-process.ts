import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  out(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The base URL once it listens (undefined if it exited first). */
  url?: string;
}

/**
 * Runs the built service (`dist/main.js`) as its own process on 127.0.0.1 with a free port and only
 * the environment given, and waits until it listens, exits, or 15 s pass.
 */
export async function spawnService(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listening = /Listening on http:\/\/[^:]+:(\d+)/;
  const deadline = Date.now() + 15_000;
  while (!listening.test(out) && child.exitCode === null && child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const port = listening.exec(out)?.[1];
  return { child, out: () => out, exited, url: port ? `http://127.0.0.1:${port}` : undefined };
}
