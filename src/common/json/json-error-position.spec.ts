import { findJsonSyntaxFault } from './json-error-position.js';

describe('findJsonSyntaxFault (CPython json positions)', () => {
  it.each([
    ['', 0, 'Expecting value'],
    ['{"model":}', 9, 'Expecting value'],
    ['{"a" 1}', 5, "Expecting ':' delimiter"],
    ['{"a":1 "b":2}', 7, "Expecting ',' delimiter"],
    ["{'a':1}", 1, 'Expecting property name enclosed in double quotes'],
    ['{"a":1,}', 6, 'Illegal trailing comma before end of object'],
    ['{"a":1, \n }', 6, 'Illegal trailing comma before end of object'],
    ['[1,]', 2, 'Illegal trailing comma before end of array'],
    ['[1,,]', 3, 'Expecting value'],
    ['{"a":"x\\', 5, 'Unterminated string starting at'],
    ['[1,2', 4, "Expecting ',' delimiter"],
    ['{"a":"abc', 5, 'Unterminated string starting at'],
    ['{"a":"x\\q"}', 7, 'Invalid \\escape'],
    ['{} x', 3, 'Extra data'],
    ['{"😀":1,}', 6, 'Illegal trailing comma before end of object'],
    ['{"😀":1,"', 7, 'Unterminated string starting at'],
    ['NaN', 0, 'Expecting value'],
  ])('%j fails at %i: %s', (text, pos, msg) => {
    expect(findJsonSyntaxFault(text)).toEqual({ pos, msg });
  });

  it('accepts valid JSON', () => {
    expect(findJsonSyntaxFault('{"a":[1,-2.5e3,true,null,{"b":"\\u00e9"}]}')).toBeNull();
  });

  it('survives hostile nesting without overflowing the stack', () => {
    expect(findJsonSyntaxFault('['.repeat(200_000))).toEqual({ pos: 200_000, msg: 'Expecting value' });
  });
});
