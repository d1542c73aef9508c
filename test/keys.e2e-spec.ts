import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { authHeaders, post, startApp, type RunningApp } from './support/app.js';
import { sleep } from './support/mock-upstream.js';
import { spawnService } from './support/service-process.js';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

describe('API_KEYS_FILE: hashed keys, model access, reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  const file = join(dir, 'keys.yaml');
  let running: RunningApp;
  let url: string;
  const hello = { model: 'echo', messages: [{ role: 'user', content: 'hi' }] };
  const writeKeys = (entries: unknown) => {
    writeFileSync(`${file}.tmp`, typeof entries === 'string' ? entries : stringify(entries));
    renameSync(`${file}.tmp`, file);
  };

  beforeAll(async () => {
    writeKeys([
      { name: 'team-a', sha256: sha('sk-team-a'), models: ['echo'] },
      { name: 'team-b', sha256: sha('sk-team-b'), models: ['other*'] },
      { name: 'old', sha256: sha('sk-old'), disabled: true },
    ]);
    running = await startApp({ API_KEYS: undefined, API_KEYS_FILE: file });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  it('accepts a key whose SHA-256 is listed', async () => {
    expect((await post(url, hello, authHeaders('sk-team-a'))).status).toBe(200);
  });

  it("refuses a model outside the key's list with 403 permission_error, before any backend", async () => {
    const r = await post(url, hello, authHeaders('sk-team-b'));
    expect(r.status).toBe(403);
    expect(r.json.error).toMatchObject({ type: 'permission_error', param: 'model' });
    const models = (await (await fetch(`${running.url}/v1/models`, { headers: authHeaders('sk-team-b') })).json()) as { data: unknown[] };
    expect(models.data).toEqual([]);
  });

  it('answers a disabled key with 401', async () => {
    const r = await post(url, hello, authHeaders('sk-old'));
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/disabled/);
  });

  it('re-reads the file when it changes, and keeps the old keys when the new file is bad', async () => {
    writeKeys([{ name: 'team-c', sha256: sha('sk-team-c') }]);
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await sleep(50);
      status = (await post(url, hello, authHeaders('sk-team-c'))).status;
    }
    expect(status).toBe(200);
    expect((await post(url, hello, authHeaders('sk-team-a'))).status).toBe(401);
    writeKeys('- name: broken\n  sha256: not-hex\n');
    await sleep(400);
    expect((await post(url, hello, authHeaders('sk-team-c'))).status).toBe(200);
  });
});

describe("API_KEYS_FILE names stay apart from other callers' names", () => {
  const fileWith = (entries: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.yaml');
    writeFileSync(file, stringify(entries));
    return file;
  };
  /** Why the service would not start (a service that starts is closed again). */
  const startFailure = (env: Record<string, string | undefined>) =>
    startApp(env).then(
      (running) => running.close().then(() => 'it started'),
      (err: Error) => err.message,
    );

  it("refuses at start a name in the JWT callers' form, naming the entry's place", async () => {
    const file = fileWith([
      { name: 'team-a', sha256: sha('sk-team-a') },
      { name: 'jwt:svc-reporting', sha256: sha('sk-x') },
    ]);
    expect(await startFailure({ API_KEYS: undefined, API_KEYS_FILE: file, API_KEYS_FILE_WATCH: 'false' })).toMatch(
      /\[1\]\.name: names starting with 'jwt:' are kept for JWT callers/,
    );
  });

  it('refuses at start a name API_KEYS already gives one of its keys', async () => {
    const file = fileWith([{ name: 'key-2', sha256: sha('sk-x') }]);
    expect(await startFailure({ API_KEYS: 'sk-one,sk-two', API_KEYS_FILE: file, API_KEYS_FILE_WATCH: 'false' })).toMatch(
      /\[0\]\.name: 'key-2' is already the name of key 2 of API_KEYS/,
    );
  });

  it('keeps the keys in force when a reloaded file takes such a name', async () => {
    const file = fileWith([{ name: 'team-a', sha256: sha('sk-team-a') }]);
    const running = await startApp({ API_KEYS: 'sk-one', API_KEYS_FILE: file });
    try {
      const url = `${running.url}/v1/chat/completions`;
      const hello = { model: 'echo', messages: [{ role: 'user', content: 'hi' }] };
      writeFileSync(
        `${file}.tmp`,
        stringify([
          { name: 'jwt:team-a', sha256: sha('sk-team-a') },
          { name: 'key-1', sha256: sha('sk-new') },
        ]),
      );
      renameSync(`${file}.tmp`, file);
      const refusal = () => running.logs.find((l) => /API_KEYS_FILE not reloaded/.test(l.msg));
      for (let i = 0; i < 80 && !refusal(); i++) await sleep(25);
      expect((await post(url, hello, authHeaders('sk-team-a'))).status).toBe(200);
      expect((await post(url, hello, authHeaders('sk-new'))).status).toBe(401);
      expect(refusal()?.msg).toMatch(/\[0\]\.name: names starting with 'jwt:'/);
      expect(refusal()?.msg).toMatch(/\[1\]\.name: 'key-1' is already the name of key 1 of API_KEYS/);
    } finally {
      await running.close();
    }
  });
});

describe('SIGHUP', () => {
  it('makes a running service re-read API_KEYS_FILE', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.yaml');
    writeFileSync(file, stringify([{ name: 'first', sha256: sha('sk-first') }]));
    const service = await spawnService({ API_KEYS_FILE: file, API_KEYS_FILE_WATCH: 'false' });
    try {
      if (!service.url) throw new Error(`service did not start: ${service.out()}`);
      const url = `${service.url}/v1/models`;
      const status = async (key: string) => (await fetch(url, { headers: authHeaders(key) })).status;
      writeFileSync(file, stringify([{ name: 'second', sha256: sha('sk-second') }]));
      await sleep(200);
      expect(await status('sk-second')).toBe(401);
      service.child.kill('SIGHUP');
      await sleep(200);
      expect(await status('sk-second')).toBe(200);
      expect(await status('sk-first')).toBe(401);
      expect(service.out()).not.toContain('sk-second');
      expect(service.out()).not.toContain(sha('sk-second'));
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});

describe('npm run key:create', () => {
  it('prints a new key once and an entry whose hash matches it', () => {
    const out = execFileSync(
      process.execPath,
      [new URL('../dist/auth/key-create.js', import.meta.url).pathname, '--name', 'team-z', '--models', 'echo,vllm/*', '--rpm', '30'],
      { encoding: 'utf8' },
    );
    const key = /\n\s+(sk-\S+)\n/.exec(out)![1];
    expect(out).toContain(`sha256: ${sha(key)}`);
    expect(out).toContain('name: team-z');
    expect(out).toMatch(/models:\n\s+- echo\n\s+- vllm\/\*/);
    expect(out).toContain('rpm: 30');
    expect(out.split(key).length - 1).toBe(1);
  });

  it('refuses a bad limit', () => {
    expect(() =>
      execFileSync(process.execPath, [new URL('../dist/auth/key-create.js', import.meta.url).pathname, '--name', 'x', '--rpm', 'lots'], { stdio: 'pipe' }),
    ).toThrow(/--rpm must be a positive whole number/);
  });
});
