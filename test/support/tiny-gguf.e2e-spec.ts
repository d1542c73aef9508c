import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from './tiny-gguf.js';

describe('writeTinyGguf', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tiny-gguf-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the same bytes for the same seed and different weights for another', async () => {
    await writeTinyGguf(join(dir, 'a.gguf'), { seed: 1 });
    await writeTinyGguf(join(dir, 'b.gguf'), { seed: 1 });
    await writeTinyGguf(join(dir, 'c.gguf'), { seed: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => readFile(join(dir, `${n}.gguf`))));
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBe(c.length);
    expect(a.equals(c)).toBe(false);
    expect(a.length).toBeLessThan(1024 * 1024);
  });

  it('is a llama GGUF v3 that node-llama-cpp’s own parser reads, with a byte-fallback vocabulary and a chat template', async () => {
    const path = join(dir, 'm.gguf');
    await writeTinyGguf(path, { layers: 3, embedding: 32, heads: 4, headsKv: 2, name: 'probe' });
    const { readGgufFileInfo } = await import('node-llama-cpp');
    const info = await readGgufFileInfo(path);
    expect(info.version).toBe(3);
    const meta = info.metadata as unknown as {
      general: { architecture: string; name: string };
      llama: { block_count: number; embedding_length: number; attention: { head_count_kv: number } };
      tokenizer: { ggml: { model: string; tokens: string[]; token_type: number[] }; chat_template: string };
    };
    expect(meta.general).toMatchObject({ architecture: 'llama', name: 'probe' });
    expect(meta.llama).toMatchObject({ block_count: 3, embedding_length: 32, attention: { head_count_kv: 2 } });
    expect(meta.tokenizer.ggml.model).toBe('llama');
    expect(meta.tokenizer.ggml.tokens.filter((t) => /^<0x[0-9A-F]{2}>$/.test(t))).toHaveLength(256);
    expect(meta.tokenizer.chat_template).toContain('<|im_start|>');
    const names = info.fullTensorInfo!.map((t) => t.name);
    expect(names).toHaveLength(3 + 3 * 9);
    const k = info.fullTensorInfo!.find((t) => t.name === 'blk.2.attn_k.weight')!;
    expect(k.dimensions.map(Number)).toEqual([32, 16]);
    expect(info.fullTensorInfo!.every((t) => Number(t.offset) % 32 === 0)).toBe(true);
  });

  it('omits the chat template when asked', async () => {
    const path = join(dir, 'plain.gguf');
    await writeTinyGguf(path, { chatTemplate: null });
    const { readGgufFileInfo } = await import('node-llama-cpp');
    const info = await readGgufFileInfo(path);
    expect((info.metadata as unknown as { tokenizer: { chat_template?: string } }).tokenizer.chat_template).toBeUndefined();
  });
});
