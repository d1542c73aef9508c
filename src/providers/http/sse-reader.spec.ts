import { readSseData, SseEventTooLarge } from './sse-reader.js';

async function* pieces(...parts: string[]) {
  for (const p of parts) yield new TextEncoder().encode(p);
}

async function all(it: AsyncIterable<string>) {
  const out: string[] = [];
  for await (const d of it) out.push(d);
  return out;
}

describe('readSseData', () => {
  it("yields each event's data however the bytes are split, CRLF included", async () => {
    expect(await all(readSseData(pieces('data: a\n', '\ndata: b\r\n\r\n: comment\n\ndata: c\ndata: d\n\n', 'event: x\ndata:e')))).toEqual([
      'a',
      'b',
      'c\nd',
      'e',
    ]);
  });

  it('finds a separator split across pieces', async () => {
    expect(await all(readSseData(pieces('data: a\n', '\n', 'data: b\n', '\n')))).toEqual(['a', 'b']);
  });

  it('refuses an event that grows past the limit', async () => {
    await expect(all(readSseData(pieces('data: ', 'x'.repeat(50), 'y'.repeat(50)), 80))).rejects.toBeInstanceOf(SseEventTooLarge);
  });

  it('reads a large event in linear time', async () => {
    const parts = Array.from({ length: 2000 }, () => 'x'.repeat(8192));
    const started = Date.now();
    const [data] = await all(readSseData(pieces('data: ', ...parts, '\n\n')));
    expect(data).toHaveLength(2000 * 8192);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
