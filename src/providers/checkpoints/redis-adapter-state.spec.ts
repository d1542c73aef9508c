import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '../../../test/support/redis.js';
import { RedisAdapterState } from './redis-adapter-state.js';

const REDIS_URL = await testRedisUrl();
if (!REDIS_URL) console.warn('No Redis (REDIS_URL unset, nothing at 127.0.0.1:6379): the shared adapter state spec is skipped');

(REDIS_URL ? describe : describe.skip)('RedisAdapterState: replicas deciding together through Redis', () => {
  let redis: Redis;
  const times = { leaseMs: 5_000, lockMs: 5_000 };
  /** Replicas of one target (a fresh one per test), `max` adapters at most. */
  const replicas = (max: number, count = 2, t = times) => {
    const target = `spec-${randomUUID()}`;
    return Array.from({ length: count }, (_, i) => new RedisAdapterState(redis, target, max, t, `replica-${i}`));
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL!, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('lets one replica load an adapter; the others wait, then hold it as loaded', async () => {
    const [a, b] = replicas(2);
    expect(await a.acquire('x')).toBe('load');
    expect(await b.acquire('x')).toBe('wait');
    expect(await a.loaded('x')).toEqual([]);
    expect(await b.acquire('x')).toBe('held');
    expect(await a.renew([])).toEqual(['x']);
  });

  it('keeps the loaded set alive while adapters are in use, and counts one loaded while Redis was unreachable', async () => {
    const target = `spec-${randomUUID()}`;
    const [a, b] = [0, 1].map((i) => new RedisAdapterState(redis, target, 2, times, `replica-${i}`));
    const loaded = `gateway:lora:${target}:loaded`;
    expect(await a.acquire('x')).toBe('load');
    await a.loaded('x');
    // A day later the set would expire; renewing (and holding) pushes its expiry on.
    await redis.pexpire(loaded, 1_000);
    await a.renew(['x']);
    expect(await redis.pttl(loaded)).toBeGreaterThan(3_600_000);
    await redis.pexpire(loaded, 1_000);
    expect(await b.acquire('x')).toBe('held');
    expect(await redis.pttl(loaded)).toBeGreaterThan(3_600_000);
    // 'y' was loaded by b without coordination (Redis was down): its lease renewal counts it.
    expect(await b.renew(['x', 'y'])).toEqual(expect.arrayContaining(['x', 'y']));
  });

  it('a load that failed lets the next replica load it', async () => {
    const [a, b] = replicas(2);
    expect(await a.acquire('x')).toBe('load');
    await a.unlock('x');
    expect(await b.acquire('x')).toBe('load');
  });

  it('never evicts an adapter another replica holds: the least recently used idle one goes', async () => {
    const [a, b, c] = replicas(2, 3);
    for (const [r, id] of [
      [a, 'x'],
      [b, 'y'],
    ] as const) {
      expect(await r.acquire(id)).toBe('load');
      await r.loaded(id);
    }
    // Both held: no room for a third.
    expect(await c.acquire('z')).toBe('full');
    // x is the least recently used, but a still uses it; b lets y go.
    expect(await b.release('y')).toEqual([]);
    expect(await c.acquire('z')).toBe('load');
    expect(await c.loaded('z')).toEqual(['y']);
    // y is locked for c's unload: anyone asking for it waits until the unload is over.
    expect(await a.acquire('y')).toBe('wait');
    await c.unlock('y');
    expect((await a.renew(['x'])).sort()).toEqual(['x', 'z']);
  });

  it('counts loads in progress against max, and one more only while an idle adapter can make room', async () => {
    const [a, b] = replicas(1);
    expect(await a.acquire('x')).toBe('load');
    expect(await b.acquire('y')).toBe('full');
    await a.loaded('x');
    expect(await b.acquire('y')).toBe('full');
    expect(await a.release('x')).toEqual([]);
    expect(await b.acquire('y')).toBe('load');
    expect(await b.loaded('y')).toEqual(['x']);
  });

  it('a replica that dies stops blocking: its leases and its locks expire', async () => {
    const [dead, alive] = replicas(2, 2, { leaseMs: 200, lockMs: 300 });
    expect(await dead.acquire('x')).toBe('load');
    await dead.loaded('x');
    // It locks y for a load, then dies: it never finishes the load nor renews its lease on x.
    expect(await dead.acquire('y')).toBe('load');
    expect(await alive.acquire('y')).toBe('wait');
    expect(await alive.acquire('z')).toBe('full');
    await new Promise((r) => setTimeout(r, 350));
    expect(await alive.acquire('y')).toBe('load');
    expect(await alive.loaded('y')).toEqual([]);
    expect(await alive.acquire('z')).toBe('load');
    expect(await alive.loaded('z')).toEqual(['x']);
  });
});
