import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where CI keeps the Debian sid chroot that reference/setup.sh builds (override with FASTAPI_ORACLE_ROOT). */
export const ORACLE_ROOT = process.env.FASTAPI_ORACLE_ROOT ?? '/var/cache/fastapi-oracle-sid';
const REFERENCE_DIR = new URL('./reference/', import.meta.url).pathname;
/** Inside the chroot: where app.py is copied before each start. */
const APP_DIR = '/opt/fastapi-oracle';

export interface ReferenceApp {
  port: number;
  /** Python, FastAPI, pydantic, pydantic-core, Starlette and uvicorn versions, as the chroot reports them. */
  versions: Record<string, string>;
  /** What uvicorn wrote so far (its log and any traceback). */
  out(): string;
  stop(): Promise<void>;
}

/** Why the reference cannot run here, or undefined when it can. */
export function referenceUnavailable(root = ORACLE_ROOT): string | undefined {
  const build = `build it with: sudo FASTAPI_ORACLE_ROOT=${root} test/differential/reference/setup.sh`;
  if (!existsSync(join(root, 'usr/bin/python3'))) return `no FastAPI reference chroot at ${root} (${build})`;
  if (process.getuid?.() !== 0) return `the FastAPI reference runs in a chroot, which needs root (chroot at ${root})`;
  return undefined;
}

export function referenceVersions(root = ORACLE_ROOT): Record<string, string> {
  const script = [
    'import json, sys, fastapi, pydantic, pydantic_core, starlette, uvicorn',
    "print(json.dumps({'python': sys.version.split()[0], 'fastapi': fastapi.__version__, 'pydantic': pydantic.VERSION,",
    "  'pydantic-core': pydantic_core.__version__, 'starlette': starlette.__version__, 'uvicorn': uvicorn.__version__}))",
  ].join('\n');
  return JSON.parse(execFileSync('chroot', [root, '/usr/bin/python3', '-c', script], { encoding: 'utf8' }));
}

/**
 * Starts reference/app.py with uvicorn inside the chroot on 127.0.0.1 and a port the kernel picks, with
 * only the environment it needs, and waits until uvicorn says where it listens.
 */
export async function startReference(apiKey: string, root = ORACLE_ROOT): Promise<ReferenceApp> {
  const versions = referenceVersions(root);
  mkdirSync(join(root, APP_DIR), { recursive: true });
  copyFileSync(join(REFERENCE_DIR, 'app.py'), join(root, APP_DIR, 'app.py'));
  const child: ChildProcess = spawn(
    'chroot',
    [
      root,
      '/usr/bin/env',
      '-i',
      'PATH=/usr/bin:/bin',
      'PYTHONDONTWRITEBYTECODE=1',
      `ORACLE_API_KEY=${apiKey}`,
      '/usr/bin/python3',
      '-m',
      'uvicorn',
      'app:app',
      '--app-dir',
      APP_DIR,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--no-access-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  const listening = /Uvicorn running on http:\/\/127\.0\.0\.1:(\d+)/;
  const deadline = Date.now() + 30_000;
  while (!listening.test(out) && child.exitCode === null && child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  const port = Number(listening.exec(out)?.[1]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  if (!port) {
    await stop();
    throw new Error(`the FastAPI reference did not start:\n${out}`);
  }
  return { port, versions, out: () => out, stop };
}
