import type { RawResponse } from './raw-http.js';

/** One answer, reduced to what the comparison reads. */
export interface Outcome {
  status: number;
  /** The Content-Type's type/subtype, lower-cased, without parameters ('' when absent). */
  media: string;
  headers: Record<string, string>;
  /** The body decoded as UTF-8 (for the report). */
  text: string;
  /** The body parsed exactly (see parseExact), or undefined when it is not JSON. */
  json?: unknown;
}

export type Aspect = 'status' | 'media' | 'detail' | 'shape' | 'www-authenticate' | 'allow';

export interface Difference {
  aspect: Aspect;
  fastapi: string;
  ours: string;
}

const NUMBER_TAG = '\u0000#';

/** A float as Python's repr writes it: shortest round-trip digits, `.0` on integral values, exponent from 1e16 and below 1e-4. */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [mantissa, exp] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  return `${sign}${whole}.${digits.slice(e + 1) || '0'}`;
}

/**
 * JSON.parse that keeps what Python's json keeps: an integer of any size stays exact and stays an
 * integer (`1` and `1.0` differ, as they do for a Python client), and a float keeps its sign (`-0.0`).
 * Numbers become tagged strings of their Python text (`int:<digits>`, `float:<repr>`), so a plain
 * structural comparison compares them exactly and two spellings of one float (`1e-7`, `1e-07`) agree.
 */
export function parseExact(text: string): unknown {
  const tagged = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (token) => {
    if (token.startsWith('"')) return token;
    const canonical = /[.eE]/.test(token) ? `float:${pythonFloatRepr(Number(token))}` : `int:${BigInt(token)}`;
    return JSON.stringify(NUMBER_TAG + canonical);
  });
  return JSON.parse(tagged);
}

class Token {
  constructor(readonly text: string) {}
}

/**
 * A value as canonical JSON text: object keys sorted (JSON objects are unordered), numbers written back
 * from their exact tags. Iterative, so bodies nested thousands deep do not overflow the stack.
 */
export function canonical(root: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const item = stack.pop();
    if (item instanceof Token) out.push(item.text);
    else if (Array.isArray(item)) {
      out.push('[');
      stack.push(new Token(']'));
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i]);
        if (i > 0) stack.push(new Token(','));
      }
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      stack.push(new Token('}'));
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push(entries[i][1]);
        stack.push(new Token(`${JSON.stringify(entries[i][0])}:`));
        if (i > 0) stack.push(new Token(','));
      }
    } else if (typeof item === 'string' && item.startsWith(NUMBER_TAG)) out.push(item.slice(item.indexOf(':') + 1));
    else out.push(JSON.stringify(item));
  }
  return out.join('');
}

export function toOutcome(res: RawResponse): Outcome {
  const text = res.body.toString('utf8');
  let json: unknown;
  try {
    json = parseExact(text);
  } catch {
    json = undefined;
  }
  const media = (res.headers['content-type'] ?? '').split(';', 1)[0].trim().toLowerCase();
  return { status: res.status, media, headers: res.headers, text, json };
}

/** JSON type of a value, telling integers from floats as Python does. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value.startsWith(NUMBER_TAG) ? value.slice(NUMBER_TAG.length, value.indexOf(':')) : 'string';
  return typeof value;
}

/** The shape of a reply: every path (array items as `[]`) with its JSON type. */
export function shape(value: unknown, path = '$', out = new Map<string, string>()): Map<string, string> {
  const type = typeOf(value);
  out.set(path, type);
  if (type === 'array') for (const item of value as unknown[]) shape(item, `${path}[]`, out);
  else if (type === 'object') for (const [k, v] of Object.entries(value as object)) shape(v, `${path}.${k}`, out);
  return out;
}

const detailOf = (o: Outcome) =>
  o.json !== null && typeof o.json === 'object' && 'detail' in o.json ? canonical(o.json.detail) : `(no detail) ${o.text.slice(0, 300)}`;

/**
 * What differs between FastAPI's answer and ours. A different status is the whole difference; with the
 * same status: the media type; for 422 the whole `detail` array (type, loc, msg, input, ctx, exactly);
 * for 200 the shape of the reply (every path of FastAPI's reply, with its type, must be in ours; both
 * echo different text); for any other status the `detail` value, and `WWW-Authenticate` / `Allow`.
 */
export function compareOutcomes(fastapi: Outcome, ours: Outcome): Difference[] {
  if (fastapi.status !== ours.status) return [{ aspect: 'status', fastapi: String(fastapi.status), ours: String(ours.status) }];
  const diffs: Difference[] = [];
  if (fastapi.media !== ours.media) diffs.push({ aspect: 'media', fastapi: fastapi.media, ours: ours.media });
  if (fastapi.status === 200) {
    if (fastapi.media === ours.media && fastapi.media === 'application/json') {
      const theirs = shape(fastapi.json);
      const mine = shape(ours.json);
      const wrong = [...theirs].filter(([path, type]) => mine.get(path) !== type);
      if (wrong.length)
        diffs.push({
          aspect: 'shape',
          fastapi: wrong.map(([p, t]) => `${p}:${t}`).join(' '),
          ours: wrong.map(([p]) => `${p}:${mine.get(p) ?? 'absent'}`).join(' '),
        });
    }
  } else {
    const theirs = detailOf(fastapi);
    const mine = detailOf(ours);
    if (theirs !== mine) diffs.push({ aspect: 'detail', fastapi: theirs, ours: mine });
    for (const header of ['www-authenticate', 'allow'] as const) {
      if ((fastapi.headers[header] ?? '') !== (ours.headers[header] ?? ''))
        diffs.push({ aspect: header, fastapi: fastapi.headers[header] ?? '(none)', ours: ours.headers[header] ?? '(none)' });
    }
  }
  return diffs;
}
