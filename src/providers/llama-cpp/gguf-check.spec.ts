import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '../../../test/support/tiny-gguf.js';
import { ggufProblem } from './gguf-check.js';

describe('ggufProblem', () => {
  let dir: string;
  let valid: Buffer;
  const file = async (name: string, bytes: Buffer) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gguf-check-'));
    await writeTinyGguf(join(dir, 'tiny.gguf'));
    valid = await readFile(join(dir, 'tiny.gguf'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a complete GGUF', async () => {
    await expect(ggufProblem(join(dir, 'tiny.gguf'))).resolves.toBeUndefined();
  });

  it('names what is wrong with files that are not one', async () => {
    await expect(ggufProblem(join(dir, 'missing.gguf'))).resolves.toBe('the file does not exist');
    await expect(ggufProblem(dir)).resolves.toBe('it is not a file');
    await expect(ggufProblem(await file('text.gguf', Buffer.from('{"not":"gguf"}'.repeat(4))))).resolves.toBe('it is not a GGUF file (no GGUF magic)');
    const v1 = Buffer.from(valid.subarray(0, 4096));
    v1.writeUInt32LE(1, 4);
    await expect(ggufProblem(await file('v1.gguf', v1))).resolves.toBe('unsupported GGUF version 1');
  });

  it('finds a cut in the metadata, the tensor table or the tensor data without reading past the end', async () => {
    const cut = (n: number) => file(`cut-${n}.gguf`, valid.subarray(0, n));
    await expect(ggufProblem(await cut(2000))).resolves.toBe('the GGUF header is corrupt or the file is truncated');
    await expect(ggufProblem(await cut(valid.length - 1))).resolves.toBe(
      `the file is truncated: tensor 'output.weight' ends past its ${valid.length - 1} bytes`,
    );
    const huge = Buffer.from(valid.subarray(0, 64));
    huge.writeBigUInt64LE(1n << 60n, 16);
    await expect(ggufProblem(await file('huge-count.gguf', huge))).resolves.toBe('the GGUF header is corrupt or the file is truncated');
  });
});
