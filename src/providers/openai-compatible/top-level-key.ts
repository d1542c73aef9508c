const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index of the quote that closes the JSON string whose body starts at `from`; -1 when there is none. */
export function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92) i++;
  }
  return -1;
}

/** The index just past the JSON value starting at `i`; -1 when it does not end. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 34) {
    const close = closingQuote(text, i + 1);
    return close === -1 ? -1 : close + 1;
  }
  if (first === 123 || first === 91) {
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i = closingQuote(text, i + 1);
        if (i === -1) return -1;
      } else if (c === 123 || c === 91) depth++;
      else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next separator.
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 125 || c === 93 || isSpace(c)) break;
    i++;
  }
  return i;
}

/**
 * Where the value of `key` starts in `text`, a JSON object that parsed, when `key` is one of its
 * top-level keys, written without escapes and only once; -1 otherwise (also when any top-level
 * key holds an escape: it could spell `key`). Walks the top level only, skipping nested values and
 * strings whole, so `key` inside strings or nested objects is never taken for it.
 */
export function topLevelValueAt(text: string, key: string): number {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123) return -1;
  i = skipSpace(text, i + 1);
  let found = -1;
  for (;;) {
    if (text.charCodeAt(i) !== 34) return -1;
    const close = closingQuote(text, i + 1);
    if (close === -1) return -1;
    const name = text.slice(i + 1, close);
    if (name.includes('\\')) return -1;
    i = skipSpace(text, close + 1);
    if (text.charCodeAt(i) !== 58) return -1;
    i = skipSpace(text, i + 1);
    if (name === key) {
      if (found !== -1) return -1;
      found = i;
    }
    i = skipValue(text, i);
    if (i === -1) return -1;
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 125) return found;
    if (c !== 44) return -1;
    i = skipSpace(text, i + 1);
  }
}
