import { spawn } from 'node:child_process';
import { once } from 'node:events';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;

/** Runs the built service with an environment; resolves with its output once it listens or exits. */
async function runService(env: Record<string, string>, until: RegExp) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => (out += d.toString());
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number);
  const deadline = Date.now() + 15000;
  while (!until.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { child, out: () => out, exited };
}

describe('start-up', () => {
  it('refuses a bad PORT, naming the variable and not the value', async () => {
    const { exited, out } = await runService({ PORT: 'eighty-s3cret' }, /Failed to start/);
    expect(await exited).toBe(1);
    expect(out()).toMatch(/PORT must be an integer/);
    expect(out()).not.toContain('eighty-s3cret');
  });

  it('never runs open: without API_KEYS it generates a key, prints it once, and accepts only it', async () => {
    const { child, out } = await runService({}, /Listening on http:\/\/127\.0\.0\.1:\d+/);
    try {
      const key = /generated this key.*\n\s+(sk-\S+)/.exec(out())?.[1];
      expect(key).toBeDefined();
      expect(out().split(key!).length - 1).toBe(1);
      const port = /Listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out())![1];
      const call = (k: string) => fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${k}` } });
      expect((await call(key!)).status).toBe(200);
      expect((await call('sk-guess')).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
