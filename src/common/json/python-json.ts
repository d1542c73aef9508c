/**
 * JSON as Python's `json` module reads it and FastAPI writes it back: numbers keep their Python
 * value (`1.0` stays a float, `9007199254740993` stays exact) and objects keep their key order
 * (JavaScript puts integer-like keys first). Used only to echo a 422's `input`, never on the way
 * to a backend.
 */

/** A JSON number, with the text Python's `repr` gives its value. */
export class PythonNumber {
  constructor(readonly repr: string) {}
}

/** Python keeps at most this many digits in an integer read from text (`sys.int_info.default_max_str_digits`). */
export const PYTHON_INT_MAX_DIGITS = 4300;

const INT = /^-?\d+$/;

/** Python's `repr()` of the value of a JSON number token. */
export function pythonNumberRepr(token: string): string {
  if (INT.test(token)) return /^-0+$/.test(token) ? '0' : token;
  return pythonFloatRepr(Number(token));
}

/** Python's `repr()` of a float: shortest round-trip digits, fixed between 1e-4 and 1e16, `.0` on integers. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponent] = x.toExponential().split('e');
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(exponent);
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits.padEnd(exp + 1, '0')}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Reads valid JSON text (already accepted by JSON.parse) into Python's view of it: objects as Maps
 * in key order (a repeated key keeps its first place and last value, as a dict does), numbers as
 * PythonNumber. Iterative: any nesting JSON.parse took is read here too.
 */
export function readAsPython(text: string): unknown {
  const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
  type Frame = { container: unknown[] | Map<string, unknown>; key?: string };
  const stack: Frame[] = [];
  let i = 0;
  let result: unknown;
  const put = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) result = value;
    else if (Array.isArray(top.container)) top.container.push(value);
    else {
      top.container.set(top.key as string, value);
      top.key = undefined;
    }
  };
  for (;;) {
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === ',') {
      i++;
      continue;
    }
    if (c === ']' || c === '}') {
      i++;
      const done = stack.pop() as Frame;
      put(done.container);
      if (stack.length === 0) return result;
      continue;
    }
    if (top && !Array.isArray(top.container) && top.key === undefined) {
      // A key, then its colon.
      const end = stringEnd(text, i);
      top.key = JSON.parse(text.slice(i, end)) as string;
      i = end;
      while (isSpace(text.charCodeAt(i))) i++;
      i++;
      continue;
    }
    let value: unknown;
    if (c === '{' || c === '[') {
      i++;
      stack.push({ container: c === '{' ? new Map() : [] });
      continue;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      value = JSON.parse(text.slice(i, end));
      i = end;
    } else if (text.startsWith('true', i) || text.startsWith('false', i) || text.startsWith('null', i)) {
      value = c === 't' ? true : c === 'f' ? false : null;
      i += c === 'f' ? 5 : 4;
    } else {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)?.[0] ?? '';
      if (!token) throw new SyntaxError(`not JSON at ${i}`);
      value = new PythonNumber(pythonNumberRepr(token));
      i += token.length;
    }
    put(value);
    if (stack.length === 0) return result;
  }
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (Number.isNaN(c)) throw new SyntaxError('unterminated string');
    i += c === 0x5c ? 2 : 1;
  }
}

/** The value `path` leads to in a Python view, or undefined when it leads nowhere. */
export function pythonValueAt(view: unknown, path: readonly (string | number)[]): unknown {
  let at = view;
  for (const step of path) {
    if (at instanceof Map) at = at.get(String(step));
    else if (Array.isArray(at) && typeof step === 'number') at = at[step];
    else return undefined;
  }
  return at;
}

/** JSON text of a value that may hold Python views (Maps, PythonNumbers), compact as FastAPI writes it. */
export function stringifyPython(value: unknown): string {
  if (value instanceof PythonNumber) return value.repr;
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value) parts.push(`${JSON.stringify(k)}:${stringifyPython(v)}`);
    return `{${parts.join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyPython(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyPython(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
