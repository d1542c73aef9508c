import { spawnService } from './support/service-process.js';

describe('start-up', () => {
  it('refuses a bad PORT, naming the variable and not the value', async () => {
    const { exited, out } = await spawnService({ PORT: 'eighty-s3cret' });
    expect(await exited).toBe(1);
    expect(out()).toMatch(/PORT must be an integer/);
    expect(out()).not.toContain('eighty-s3cret');
  });

  it('never runs open: without API_KEYS it generates a key, prints it once, and accepts only it', async () => {
    const { child, out, url } = await spawnService({});
    try {
      const key = /generated this key.*\n\s+(sk-\S+)/.exec(out())?.[1];
      expect(key).toBeDefined();
      expect(out().split(key!).length - 1).toBe(1);
      const call = (k: string) => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${k}` } });
      expect((await call(key!)).status).toBe(200);
      expect((await call('sk-guess')).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
