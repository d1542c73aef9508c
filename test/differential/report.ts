import type { CaseResult } from './differential.js';
import type { Outcome } from './compare.js';

/** Bytes as readable text: printable ASCII and valid UTF-8 characters as they are, anything else as \xNN. */
export function showBytes(bytes: Buffer, max = 240): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < bytes.length && out.length < max) {
    const b = bytes[i];
    const size = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 1;
    if (size > 1) {
      try {
        const ch = decoder.decode(bytes.subarray(i, i + size));
        // Invisible characters (C1 controls, zero-width and line separators, the BOM) are shown as their bytes.
        if (!/[\u0080-\u009f\u200b-\u200f\u2028\u2029\ufeff]/.test(ch)) {
          out += ch;
          i += size;
          continue;
        }
      } catch {
        /* not a valid sequence: shown byte by byte */
      }
    }
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
    i += 1;
  }
  return i < bytes.length ? `${out}… (${bytes.length} bytes)` : out;
}

const answer = (o: Outcome, max = 400) =>
  `${o.status} ${o.media || '(no content-type)'} ${o.text.length > max ? `${o.text.slice(0, max)}… (${o.text.length} chars)` : o.text}`;

/** One line per difference, enough to reproduce it: the request, then both answers. */
export function describeResult(r: CaseResult): string {
  const c = r.case;
  const head = [
    `${c.method} ${c.target}`,
    c.authorization === undefined ? '' : `Authorization: ${JSON.stringify(c.authorization)}`,
    c.contentType === undefined ? '' : `Content-Type: ${JSON.stringify(c.contentType)}`,
    ...(c.extraHeaders ?? []).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    c.chunks ? `chunked ${JSON.stringify(c.chunks)}` : '',
  ].filter(Boolean);
  return [
    `${c.id}: ${r.differences.map((d) => d.aspect).join(', ')}`,
    `  request: ${head.join(' | ')} | body: ${showBytes(c.body)}`,
    `  fastapi: ${answer(r.fastapi)}`,
    `  ours:    ${answer(r.ours)}`,
  ].join('\n');
}
