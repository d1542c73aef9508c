import { parseCheckpoint, type Checkpoint } from '../checkpoint-name.js';
import { CheckpointVersions, MAX_KNOWN_CHECKPOINTS, type VersionResolver } from './checkpoint-versions.js';

/** A resolver whose answers the test sets, counting questions; each answer waits for `gate` when one is set. */
class ScriptedResolver implements VersionResolver {
  asked = 0;
  answer: string | Error = 'step1';
  gate?: Promise<void>;
  async resolve(_c: Checkpoint): Promise<string> {
    this.asked++;
    await this.gate;
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

describe('CheckpointVersions', () => {
  const bot = parseCheckpoint('acme/agents/bot', 'bot');
  let clock = 0;
  const setup = (ttlMs = 1000) => {
    const resolver = new ScriptedResolver();
    return { resolver, versions: new CheckpointVersions(resolver, ttlMs, () => clock) };
  };
  beforeEach(() => (clock = 0));

  it('asks once however many requests wait, then answers from memory until the TTL passes', async () => {
    const { resolver, versions } = setup();
    let open!: () => void;
    resolver.gate = new Promise((r) => (open = r));
    const waiting = Promise.all(Array.from({ length: 5 }, () => versions.version(bot)));
    open();
    expect(await waiting).toEqual(Array(5).fill('step1'));
    resolver.gate = undefined;
    resolver.answer = 'step2';
    clock = 999;
    expect(await versions.version(bot)).toBe('step1');
    clock = 1000;
    expect(await versions.version(bot)).toBe('step2');
    expect(resolver.asked).toBe(2);
  });

  it('keeps answers per checkpoint name', async () => {
    const { resolver, versions } = setup();
    await versions.version(bot);
    resolver.answer = 'v9';
    expect(await versions.version(parseCheckpoint('acme/agents/other:latest', 'other'))).toBe('v9');
    expect(await versions.version(bot)).toBe('step1');
  });

  it(`keeps at most ${MAX_KNOWN_CHECKPOINTS} names' answers, the oldest going first`, async () => {
    const { resolver, versions } = setup(60_000);
    for (let i = 0; i <= MAX_KNOWN_CHECKPOINTS; i++) await versions.version(parseCheckpoint(`acme/agents/bot${i}`, 'x'));
    expect(resolver.asked).toBe(MAX_KNOWN_CHECKPOINTS + 1);
    await versions.version(parseCheckpoint(`acme/agents/bot${MAX_KNOWN_CHECKPOINTS}`, 'x'));
    expect(resolver.asked).toBe(MAX_KNOWN_CHECKPOINTS + 1);
    await versions.version(parseCheckpoint('acme/agents/bot0', 'x'));
    expect(resolver.asked).toBe(MAX_KNOWN_CHECKPOINTS + 2);
  });

  it('keeps no failure: the next request asks again', async () => {
    const { resolver, versions } = setup();
    resolver.answer = new Error('registry down');
    await expect(versions.version(bot)).rejects.toThrow('registry down');
    resolver.answer = 'step3';
    expect(await versions.version(bot)).toBe('step3');
  });

  it('refresh asks again at once for a stale version, but not when another request already learned a newer one', async () => {
    const { resolver, versions } = setup();
    await versions.version(bot);
    resolver.answer = 'step2';
    expect(await versions.refresh(bot, 'step1')).toBe('step2');
    expect(resolver.asked).toBe(2);
    // A second request that failed on step1 too: step2 is known, no question.
    expect(await versions.refresh(bot, 'step1')).toBe('step2');
    expect(resolver.asked).toBe(2);
  });
});

describe('HttpResolver', () => {
  it('reads a registry answer within 64 KiB: an endless one is cut off and refused, a normal one read', async () => {
    const { createServer } = await import('node:http');
    const { HttpResolver } = await import('./http-resolver.js');
    let endless = true;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!endless) return res.end('{"version":"step7"}');
      const piece = Buffer.alloc(16 * 1024, 0x20);
      const write = () => {
        while (!res.destroyed && res.write(piece));
        if (!res.destroyed) res.once('drain', write);
      };
      write();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const resolver = new HttpResolver('vllm', `http://127.0.0.1:${port}/resolve/{entity}/{project}/{name}`);
      const started = Date.now();
      await expect(resolver.resolve(parseCheckpoint('acme/agents/bot', 'x'))).rejects.toMatchObject({ status: 502, code: 'upstream_invalid_reply' });
      expect(Date.now() - started).toBeLessThan(5_000);
      endless = false;
      await expect(resolver.resolve(parseCheckpoint('acme/agents/bot', 'x'))).resolves.toBe('step7');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
