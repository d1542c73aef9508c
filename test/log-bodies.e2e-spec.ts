import { authHeaders, post, startApp, type RunningApp } from './support/app.js';

/** LOG_BODIES keeps prompts and replies for the log line, each cut to LOG_BODY_MAX_CHARS: a long stream is not held whole. */
describe('LOG_BODIES is bounded', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: 'sk-log-bodies', LOG_BODIES: 'true', LOG_BODY_MAX_CHARS: '1000' });
  });

  afterAll(() => running?.close());

  const lineFor = (reqId: string) => running.logs.find((l) => l.msg === 'request' && l.reqId === reqId)!;

  it.each([true, false])('cuts a long prompt and reply (stream: %s) to LOG_BODY_MAX_CHARS', async (stream) => {
    const content = 'word '.repeat(40_000);
    const reqId = `long-${stream}`;
    const r = await post(
      `${running.url}/v1/chat/completions`,
      { model: 'echo', stream, messages: [{ role: 'user', content }] },
      { ...authHeaders('sk-log-bodies'), 'x-request-id': reqId },
    );
    expect(r.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = lineFor(reqId);
    expect(line.reply.length).toBeLessThanOrEqual(1000);
    expect(content.startsWith(line.reply.trimStart().slice(0, 500))).toBe(true);
    expect(typeof line.messages).toBe('string');
    expect(line.messages.length).toBeLessThan(1100);
    expect(line.messages).toMatch(/… \[\d+ more characters\]$/);
  });

  it('logs a short prompt as sent and the whole reply', async () => {
    const r = await post(
      `${running.url}/v1/chat/completions`,
      { model: 'echo', stream: true, messages: [{ role: 'user', content: 'short and whole' }] },
      { ...authHeaders('sk-log-bodies'), 'x-request-id': 'short' },
    );
    expect(r.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lineFor('short')).toMatchObject({ messages: [{ role: 'user', content: 'short and whole' }], reply: 'short and whole' });
  });
});
