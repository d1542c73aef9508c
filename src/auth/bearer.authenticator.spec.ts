import { asFastApiReadsIt } from './bearer.authenticator.js';

const PYTHON_SPACE = `\t\n\v\f\r ${String.fromCharCode(0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0)}`;
const PYTHON_SPACE_RUNS = new RegExp(`^[${PYTHON_SPACE}]+|[${PYTHON_SPACE}]+$`, 'g');

/** Python's `scheme, _, param = header.partition(" "); param.strip()`, written the obvious way. */
function pythonReads(header: string): string {
  const space = header.indexOf(' ');
  if (space === -1) return header;
  const param = header.slice(space + 1).replace(PYTHON_SPACE_RUNS, '');
  return `${header.slice(0, space)} ${param}`;
}

describe('asFastApiReadsIt', () => {
  it('strips the credentials as FastAPI does, and leaves a clean header as it is', () => {
    expect(asFastApiReadsIt('Bearer  sk-alice')).toBe('Bearer sk-alice');
    expect(asFastApiReadsIt('Bearer \t sk-alice \u00a0')).toBe('Bearer sk-alice');
    expect(asFastApiReadsIt('Bearer sk-alice x')).toBe('Bearer sk-alice x');
    expect(asFastApiReadsIt('Bearer\tsk-alice')).toBe('Bearer\tsk-alice');
    expect(asFastApiReadsIt(undefined)).toBeUndefined();
    const clean = 'Bearer sk-alice';
    expect(asFastApiReadsIt(clean)).toBe(clean);
  });

  it('agrees with the obvious reading on generated headers', () => {
    const pieces = ['Bearer', 'bearer', ' ', '  ', '\t', '\u00a0', '\u0085', '\u001f', 'sk-a', 'x', ''];
    let seed = 7;
    const pick = () => pieces[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % pieces.length];
    for (let i = 0; i < 5000; i++) {
      const header = pick() + pick() + pick() + pick() + pick();
      expect({ header, read: asFastApiReadsIt(header) }).toEqual({ header, read: pythonReads(header) });
    }
  });
});
