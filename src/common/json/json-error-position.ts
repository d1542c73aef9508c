/** Where and why a JSON text is invalid, as Python's `json` module reports it. */
export interface JsonSyntaxFault {
  /** Offset in characters (code points), as Python counts them. */
  pos: number;
  msg: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

/**
 * Finds the first syntax error in `text` the way CPython 3.14's JSON decoder does, so a 422 can carry
 * FastAPI's `loc: ["body", <pos>]`. Iterative, so hostile nesting cannot overflow the stack.
 * Returns null when the text is valid JSON.
 */
export function findJsonSyntaxFault(text: string): JsonSyntaxFault | null {
  const fault = scan(text);
  return fault && { pos: codePointOffset(text, fault.pos), msg: fault.msg };
}

function scan(s: string): { pos: number; msg: string } | null {
  let i = skip(s, 0);
  // Each frame: '[' or '{'; 'after' tells what the frame expects next.
  const stack: ('[' | '{')[] = [];
  let expect: 'value' | 'key' | 'firstKey' | 'firstValue' = 'value';
  for (;;) {
    if (expect === 'key' || expect === 'firstKey') {
      if (s[i] === '}' && expect === 'firstKey') {
        i++;
        stack.pop();
      } else if (s[i] !== '"') {
        return { pos: i, msg: 'Expecting property name enclosed in double quotes' };
      } else {
        const end = scanString(s, i);
        if (typeof end !== 'number') return end;
        i = skip(s, end);
        if (s[i] !== ':') return { pos: i, msg: "Expecting ':' delimiter" };
        i = skip(s, i + 1);
        expect = 'value';
        continue;
      }
    } else if (expect === 'firstValue' && s[i] === ']') {
      i++;
      stack.pop();
    } else {
      const c = s[i];
      if (c === '{') {
        stack.push('{');
        i = skip(s, i + 1);
        expect = 'firstKey';
        continue;
      }
      if (c === '[') {
        stack.push('[');
        i = skip(s, i + 1);
        expect = 'firstValue';
        continue;
      }
      if (c === '"') {
        const end = scanString(s, i);
        if (typeof end !== 'number') return end;
        i = end;
      } else {
        const lit = LITERALS.find((l) => s.startsWith(l, i));
        NUMBER.lastIndex = i;
        const num = lit ? null : NUMBER.exec(s);
        if (lit) i += lit.length;
        else if (num) i += num[0].length;
        else return { pos: i, msg: 'Expecting value' };
      }
    }
    // A value ended: close containers or continue them.
    for (;;) {
      i = skip(s, i);
      const top = stack[stack.length - 1];
      if (!top) {
        return i < s.length ? { pos: i, msg: 'Extra data' } : null;
      }
      const close = top === '[' ? ']' : '}';
      if (s[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (s[i] !== ',') return { pos: i, msg: "Expecting ',' delimiter" };
      const comma = i;
      i = skip(s, i + 1);
      // Python 3.13 and later name a trailing comma, at the comma.
      if (s[i] === close) return { pos: comma, msg: `Illegal trailing comma before end of ${top === '[' ? 'array' : 'object'}` };
      expect = top === '[' ? 'value' : 'key';
      break;
    }
  }
}

function skip(s: string, i: number): number {
  while (i < s.length && WS.has(s[i])) i++;
  return i;
}

function scanString(s: string, start: number): number | { pos: number; msg: string } {
  let i = start + 1;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return { pos: i, msg: 'Invalid control character at' };
    if (c === 0x5c) {
      const e = s[i + 1];
      if (e === undefined) break;
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) return { pos: i + 1, msg: 'Invalid \\uXXXX escape' };
        i += 6;
        continue;
      }
      if (!'"\\/bfnrt'.includes(e)) return { pos: i, msg: 'Invalid \\escape' };
      i += 2;
      continue;
    }
    i++;
  }
  return { pos: start, msg: 'Unterminated string starting at' };
}

function codePointOffset(s: string, utf16Index: number): number {
  let surrogates = 0;
  for (let i = 0; i < utf16Index && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) surrogates++;
  }
  return utf16Index - surrogates;
}
