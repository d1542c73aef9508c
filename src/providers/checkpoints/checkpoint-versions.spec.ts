import { parseCheckpoint, type Checkpoint } from '../checkpoint-name.js';
import { CheckpointVersions, type VersionResolver } from './checkpoint-versions.js';

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
