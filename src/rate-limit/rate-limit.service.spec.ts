import { RateLimitService, type Admission, type RateLimitEvents } from './rate-limit.service.js';
import { StoreOutage } from './store-outage.js';

const events: RateLimitEvents = { storeError: () => undefined, limited: () => undefined };
const service = (windowSeconds = 60, reserve = 1024) =>
  new RateLimitService(
    { RATE_LIMIT_ON_STORE_ERROR: 'allow', RATE_LIMIT_WINDOW_SECONDS: windowSeconds, RATE_LIMIT_COMPLETION_RESERVE_TOKENS: reserve },
    null,
    events,
  );
let n = 0;
const caller = (tpm: number) => ({ name: `k${n++}`, tpm });
const remaining = (a: Admission) => Number(a.headers['x-ratelimit-remaining-tokens']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RateLimitService token reservations', () => {
  it('reserves prompt + output limit atomically: 100 concurrent requests never hold more than tpm', async () => {
    const limits = service();
    const key = caller(2000);
    const tries = await Promise.allSettled(Array.from({ length: 100 }, () => limits.admit(key, { prompt: 30, maxOutput: 100 })));
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(Math.floor(2000 / 130));
    const refused = tries.find((t) => t.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
  });

  it('without max tokens, reserves RATE_LIMIT_COMPLETION_RESERVE_TOKENS, capped so the request fits an empty window', async () => {
    const limits = service(60, 500);
    expect(remaining(await limits.admit(caller(2000), { prompt: 30 }))).toBe(2000 - 530);
    expect(remaining(await limits.admit(caller(400), { prompt: 30 }))).toBe(0);
    expect(remaining(await limits.admit(caller(2000), { prompt: 30, maxOutput: 1_000_000 }))).toBe(0);
  });

  it('refuses a prompt larger than tpm outright, without counting it', async () => {
    const limits = service();
    const key = caller(2000);
    await expect(limits.admit(key, { prompt: 2001, maxOutput: 0 })).rejects.toMatchObject({
      status: 429,
      message: expect.stringMatching(/too large.*limit 2000, requested 2001/),
    });
    expect(remaining(await limits.admit(key, { prompt: 2000, maxOutput: 0 }))).toBe(0);
  });

  it('settles to the real usage: a refund frees the budget, an overrun takes from it', async () => {
    const limits = service();
    const key = caller(2000);
    await (await limits.admit(key, { prompt: 30, maxOutput: 100 })).settle(50);
    await (await limits.admit(key, { prompt: 30, maxOutput: 100 })).settle(300);
    expect(remaining(await limits.admit(key, { prompt: 10, maxOutput: 0 }))).toBe(2000 - 50 - 300 - 10);
  });

  it('gives nothing back to a window that has passed (the refund would credit the next one)', async () => {
    const limits = service(1);
    const key = caller(2000);
    const slow = await limits.admit(key, { prompt: 30, maxOutput: 1500 });
    await sleep(1100);
    await slow.settle(10);
    expect(remaining(await limits.admit(key, { prompt: 10, maxOutput: 0 }))).toBe(2000 - 10);
  });
});

describe('StoreOutage', () => {
  it('logs the first failure and the recovery once, however many failures come between', () => {
    const lines: string[] = [];
    const outage = new StoreOutage({ warn: (m: string) => void lines.push(`warn ${m}`), log: (m: string) => void lines.push(`info ${m}`) }, 'allow');
    outage.answered();
    for (let i = 0; i < 1000; i++) outage.failed(new Error('connect ECONNREFUSED'));
    outage.answered();
    outage.answered();
    outage.failed(new Error('again'));
    expect(lines).toEqual([
      expect.stringMatching(/^warn Rate-limit store unavailable \(connect ECONNREFUSED\); policy: allow/),
      expect.stringMatching(/^info .*answers again \(1000 failed/),
      expect.stringMatching(/^warn .*\(again\)/),
    ]);
  });
});
