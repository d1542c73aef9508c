import { pythonFloatRepr, pythonNumberRepr, pythonValueAt, readAsPython, stringifyPython } from './python-json.js';

describe('Python JSON view', () => {
  it.each([
    ['1', '1'],
    ['-0', '0'],
    ['9007199254740993', '9007199254740993'],
    ['1.0', '1.0'],
    ['-0.0', '-0.0'],
    ['1e3', '1000.0'],
    ['1E+16', '1e+16'],
    ['1e15', '1000000000000000.0'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['1e-400', '0.0'],
    ['-1e-400', '-0.0'],
    ['123456789012345678901234567890.5', '1.2345678901234568e+29'],
    ['2.5e-7', '2.5e-07'],
    ['1.5e300', '1.5e+300'],
    ['0.1', '0.1'],
    ['123.456', '123.456'],
  ])('repr of %s is %s', (token, repr) => {
    expect(pythonNumberRepr(token)).toBe(repr);
  });

  it('agrees with the number itself on generated floats: same value, and the JS text when JS would write no exponent and a fraction', () => {
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const x = (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      const repr = pythonFloatRepr(x);
      expect(Number(repr)).toBe(x);
      const js = String(x);
      if (!/e/.test(js) && js.includes('.') && Math.abs(x) >= 1e-4 && Math.abs(x) < 1e16) expect(repr).toBe(js);
    }
  });

  it('reads objects in key order with exact numbers, and finds values by loc', () => {
    const text = '{"b": 1.0, "1": [9007199254740993, {"x": -0.0}], "b": 2e0, "s": "\\u00e9\\"q"}';
    const view = readAsPython(text);
    expect(stringifyPython(view)).toBe('{"b":2.0,"1":[9007199254740993,{"x":-0.0}],"s":"é\\"q"}');
    expect(stringifyPython(pythonValueAt(view, ['1', 1]))).toBe('{"x":-0.0}');
    expect(pythonValueAt(view, ['nope', 0])).toBeUndefined();
    expect(stringifyPython(readAsPython(' [ ] '))).toBe('[]');
    expect(stringifyPython(readAsPython('{}'))).toBe('{}');
    expect(stringifyPython(readAsPython('"x"'))).toBe('"x"');
    expect(stringifyPython(readAsPython('[true,false,null,{"a":{}}]'))).toBe('[true,false,null,{"a":{}}]');
  });

  it('reads any nesting JSON.parse takes', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => readAsPython(deep)).not.toThrow();
  });
});
