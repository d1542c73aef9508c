import { settlesWithin } from './settles-within.js';

describe('settlesWithin', () => {
  it('is true for work that resolves or rejects in time', async () => {
    await expect(settlesWithin(new Promise((r) => setTimeout(r, 5)), 1000)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('failed, but settled')), 1000)).resolves.toBe(true);
  });

  it('is false once the time is up for work that never settles, without waiting for it', async () => {
    const started = Date.now();
    await expect(settlesWithin(new Promise(() => undefined), 50)).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('swallows a rejection that comes after the time is up', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 30));
      await expect(settlesWithin(late, 5)).resolves.toBe(false);
      await new Promise((r) => setTimeout(r, 60));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
