import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Shape of the generated model; the defaults give a ~0.5 MB file that generates >1000 tokens/s on one core. */
export interface TinyGgufOptions {
  /** PRNG seed for the weights: the same seed writes the same bytes. */
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  headsKv?: number;
  feedForward?: number;
  contextLength?: number;
  name?: string;
  /** `general.architecture` and the prefix of its keys; anything but `llama` makes a file llama.cpp refuses. */
  architecture?: string;
  /** Jinja chat template; `null` writes none, so loaders fall back to a generic wrapper. */
  chatTemplate?: string | null;
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SPECIALS = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
const WORDS = (
  'the and to of is in it you that for on with as are this be at or have from hello world yes no ' +
  'he she we they not but all can will one out up what so if about who get which go me'
).split(' ');
const T = { U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9 } as const;
type T = (typeof T)[keyof typeof T];
const ALIGN = 32;

/** The vocabulary: specials, 256 byte tokens, letters, `▁`-prefixed letters and word pieces. */
function vocabulary(): { tokens: string[]; types: number[] } {
  const tokens = [...SPECIALS];
  const types: number[] = [2, 3, 3, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  const pieces = new Set<string>(['▁']);
  for (const c of 'abcdefghijklmnopqrstuvwxyz') pieces.add(c).add(`▁${c}`);
  for (const w of WORDS) for (let i = 2; i <= w.length; i++) pieces.add(`▁${w.slice(0, i)}`);
  for (const p of pieces) {
    tokens.push(p);
    types.push(1);
  }
  return { tokens, types };
}

/** Whether sampling should never pick this token: specials, control and non-ASCII bytes (keeps output printable). */
function suppressed(token: string, type: number): boolean {
  if (type === 2 || type === 3) return true;
  if (type !== 6) return false;
  const b = parseInt(token.slice(3, 5), 16);
  return b !== 0x0a && (b < 0x20 || b > 0x7e);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Writer {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  pad(): void {
    const n = (ALIGN - (this.length % ALIGN)) % ALIGN;
    if (n) this.push(Buffer.alloc(n));
  }
  kv(key: string, type: T, value: number | string | boolean): void {
    this.str(key);
    this.u32(type);
    if (type === T.U32) this.u32(value as number);
    else if (type === T.F32) this.f32(value as number);
    else if (type === T.BOOL) this.push(Buffer.from([value ? 1 : 0]));
    else this.str(value as string);
  }
  array<V>(key: string, type: T, values: V[]): void {
    this.str(key);
    this.u32(T.ARR);
    this.u32(type);
    this.u64(values.length);
    for (const v of values) {
      if (type === T.STR) this.str(v as string);
      else if (type === T.I32) this.i32(v as number);
      else this.f32(v as number);
    }
  }
  concat(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/**
 * Writes a valid llama-architecture GGUF v3 file with seeded random F32 weights, for tests and
 * benchmarks without a download. Lane 0 of the residual stream carries a constant that only
 * the suppressed tokens' output rows read (strongly negative), so it never ends by EOS on its own.
 */
export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<void> {
  const { seed = 42, embedding: e = 64, layers = 2, heads = 4, headsKv = 4, feedForward: ff = 128 } = options;
  const { contextLength = 2048, name = 'tiny-llama', architecture: arch = 'llama', chatTemplate = CHATML_TEMPLATE } = options;
  const headDim = e / heads;
  const { tokens, types } = vocabulary();
  const n = tokens.length;
  const random = mulberry32(seed);
  const uniform = (scale: number) => (random() * 2 - 1) * scale;

  const tensors: { name: string; dims: number[]; data: Float32Array }[] = [];
  /** ggml order: dims[0] is the row length (the input features), dims[1] the number of rows. */
  const tensor = (name: string, dims: number[], fill: (row: number, col: number) => number) => {
    const [cols, rows = 1] = dims;
    const data = new Float32Array(cols * rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = fill(r, c);
    tensors.push({ name, dims, data });
  };
  tensor('token_embd.weight', [e, n], (_r, c) => (c === 0 ? 1 : uniform(0.5)));
  for (let l = 0; l < layers; l++) {
    const w = 1 / Math.sqrt(e);
    tensor(`blk.${l}.attn_norm.weight`, [e], () => 1);
    tensor(`blk.${l}.attn_q.weight`, [e, e], () => uniform(w));
    tensor(`blk.${l}.attn_k.weight`, [e, headDim * headsKv], () => uniform(w));
    tensor(`blk.${l}.attn_v.weight`, [e, headDim * headsKv], () => uniform(w));
    tensor(`blk.${l}.attn_output.weight`, [e, e], (r) => (r === 0 ? 0 : uniform(w)));
    tensor(`blk.${l}.ffn_norm.weight`, [e], () => 1);
    tensor(`blk.${l}.ffn_gate.weight`, [e, ff], () => uniform(w));
    tensor(`blk.${l}.ffn_up.weight`, [e, ff], () => uniform(w));
    tensor(`blk.${l}.ffn_down.weight`, [ff, e], (r) => (r === 0 ? 0 : uniform(1 / Math.sqrt(ff))));
  }
  tensor('output_norm.weight', [e], () => 1);
  tensor('output.weight', [e, n], (r, c) => (suppressed(tokens[r], types[r]) ? (c === 0 ? -20 : 0) : c === 0 ? 0 : uniform(0.5)));

  const meta = new Writer();
  let kvCount = 0;
  const kv = (key: string, type: T, value: number | string | boolean) => (meta.kv(key, type, value), kvCount++);
  const arr = <V>(key: string, type: T, values: V[]) => (meta.array(key, type, values), kvCount++);
  kv('general.architecture', T.STR, arch);
  kv('general.name', T.STR, name);
  kv('general.alignment', T.U32, ALIGN);
  kv(`${arch}.context_length`, T.U32, contextLength);
  kv(`${arch}.embedding_length`, T.U32, e);
  kv(`${arch}.feed_forward_length`, T.U32, ff);
  kv(`${arch}.block_count`, T.U32, layers);
  kv(`${arch}.attention.head_count`, T.U32, heads);
  kv(`${arch}.attention.head_count_kv`, T.U32, headsKv);
  kv(`${arch}.attention.layer_norm_rms_epsilon`, T.F32, 1e-5);
  kv(`${arch}.rope.dimension_count`, T.U32, headDim);
  kv('tokenizer.ggml.model', T.STR, 'llama');
  arr('tokenizer.ggml.tokens', T.STR, tokens);
  arr(
    'tokenizer.ggml.scores',
    T.F32,
    tokens.map((t, i) => (types[i] === 1 ? -i : 0)),
  );
  arr('tokenizer.ggml.token_type', T.I32, types);
  kv('tokenizer.ggml.unknown_token_id', T.U32, 0);
  kv('tokenizer.ggml.bos_token_id', T.U32, 1);
  kv('tokenizer.ggml.eos_token_id', T.U32, 2);
  kv('tokenizer.ggml.add_bos_token', T.BOOL, true);
  if (chatTemplate !== null) kv('tokenizer.chat_template', T.STR, chatTemplate);

  const out = new Writer();
  out.push(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(kvCount);
  out.push(meta.concat());
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(0); // GGML_TYPE_F32
    out.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGN) * ALIGN;
  }
  out.pad();
  for (const t of tensors) {
    out.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.pad();
  }
  await writeFile(path, out.concat());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: node test/support/tiny-gguf.ts <out.gguf>   (a Node that runs TypeScript: 22.18 or later)');
    process.exitCode = 2;
  } else {
    await writeTinyGguf(target);
    console.log(`wrote ${target}`);
  }
}
