import { type FileHandle, open, stat } from 'node:fs/promises';

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
/** Bytes per element of the tensor types whose size is plain (F32, F16, BF16); block-quantised types are only offset-checked. */
const ELEMENT_BYTES: Record<number, number> = { 0: 4, 1: 2, 30: 2 };

class Truncated extends Error {}

/** Reads a file front to back in growing chunks, never past its end. */
class Cursor {
  private buffer = Buffer.alloc(0);
  pos = 0;
  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  private async need(n: number): Promise<void> {
    if (this.pos + n <= this.buffer.length) return;
    if (this.pos + n > this.size) throw new Truncated();
    const length = Math.min(this.size, Math.max(this.pos + n, this.buffer.length * 2, 1 << 20));
    const next = Buffer.alloc(length);
    this.buffer.copy(next);
    await this.file.read(next, this.buffer.length, length - this.buffer.length, this.buffer.length);
    this.buffer = next;
  }
  async u32(): Promise<number> {
    await this.need(4);
    return this.buffer.readUInt32LE((this.pos += 4) - 4);
  }
  /** A count or length: more than `limit` (by default the file size) means a corrupt or cut file. */
  async u64(limit = this.size): Promise<number> {
    await this.need(8);
    const v = this.buffer.readBigUInt64LE((this.pos += 8) - 8);
    if (v > BigInt(limit)) throw new Truncated();
    return Number(v);
  }
  async skip(n: number): Promise<void> {
    await this.need(n);
    this.pos += n;
  }
  async str(): Promise<string> {
    const n = await this.u64();
    await this.need(n);
    return this.buffer.toString('utf8', this.pos, (this.pos += n));
  }
  async value(type: number): Promise<void> {
    if (SCALAR_BYTES[type]) return this.skip(SCALAR_BYTES[type]);
    if (type === STRING) return this.skip(await this.u64());
    if (type !== ARRAY) throw new Error(`unknown metadata value type ${type}`);
    const inner = await this.u32();
    const count = await this.u64();
    if (SCALAR_BYTES[inner]) return this.skip(count * SCALAR_BYTES[inner]);
    for (let i = 0; i < count; i++) await this.value(inner);
  }
}

/**
 * Why a file cannot be a loadable GGUF model, or `undefined` when it may be: walks the header,
 * metadata and tensor table within the file's bounds. Runs before node-llama-cpp parses the file,
 * whose parser trusts the header's counts (a valid magic followed by junk makes it allocate
 * without end) and whose native loader explains a truncated file only in its log.
 */
export async function ggufProblem(path: string): Promise<string | undefined> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) return 'it is not a file';
    size = info.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? String(e)})`;
  }
  const file = await open(path, 'r');
  try {
    return await walk(new Cursor(file, size));
  } catch (e) {
    return e instanceof Truncated ? 'the GGUF header is corrupt or the file is truncated' : `the GGUF metadata is corrupt (${(e as Error).message})`;
  } finally {
    await file.close();
  }
}

async function walk(c: Cursor): Promise<string | undefined> {
  if (c.size < 24 || (await c.u32()) !== 0x46554747) return 'it is not a GGUF file (no GGUF magic)';
  const version = await c.u32();
  if (version !== 2 && version !== 3) return `unsupported GGUF version ${version}`;
  const tensors = await c.u64();
  const entries = await c.u64();
  let alignment = 32;
  for (let i = 0; i < entries; i++) {
    const key = await c.str();
    const type = await c.u32();
    if (key === 'general.alignment' && type === 4) alignment = (await c.u32()) || 32;
    else await c.value(type);
  }
  const table: { name: string; elements: number; type: number; offset: number }[] = [];
  for (let i = 0; i < tensors; i++) {
    const name = await c.str();
    const dims = await c.u32();
    if (dims > 8) return `the GGUF tensor table is corrupt (tensor '${name}' has ${dims} dimensions)`;
    let elements = 1;
    for (let d = 0; d < dims; d++) elements *= await c.u64(8 * c.size);
    table.push({ name, elements, type: await c.u32(), offset: await c.u64(Number.MAX_SAFE_INTEGER) });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  for (const t of table) {
    const end = dataStart + t.offset + t.elements * (ELEMENT_BYTES[t.type] ?? 0);
    if (dataStart + t.offset > c.size || end > c.size) return `the file is truncated: tensor '${t.name}' ends past its ${c.size} bytes`;
  }
  return undefined;
}
