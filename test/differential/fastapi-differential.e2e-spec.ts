import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { startApp, type RunningApp } from '../support/app.js';
import { canonical, compareOutcomes, parseExact, pythonFloatRepr, type Outcome } from './compare.js';
import { buildCorpus, KEY } from './corpus.js';
import { runCorpus, type CaseResult } from './differential.js';
import { ORACLE_ROOT, referenceUnavailable, startReference, type ReferenceApp } from './fastapi-reference.js';
import { hasNonFiniteLiteral, KEPT_DIFFERENCES, keptReasonFor, pythonJsonEncoding } from './kept-differences.js';
import { requestBytes } from './raw-http.js';
import { describeResult } from './report.js';

/**
 * The same raw bytes to the FastAPI reference (reference/app.py in a Debian sid chroot) and to the
 * service; every difference must be one of the kept ones (kept-differences.ts). DIFFERENTIAL_REPORT=<file>
 * writes every case and both answers as JSON.
 */
const unavailable = referenceUnavailable();
if (unavailable) console.warn(`FastAPI differential suite skipped: ${unavailable}`);

const outcome = (status: number, body: string, media = 'application/json'): Outcome => ({
  status,
  media,
  headers: {},
  text: body,
  json: media === 'application/json' ? parseExact(body) : undefined,
});

describe('differential harness', () => {
  it('builds a deterministic corpus of several hundred cases with unique ids', () => {
    const cases = buildCorpus();
    expect(cases.length).toBeGreaterThanOrEqual(600);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(buildCorpus().map((c) => `${c.id}\n${c.body.toString('base64')}`)).toEqual(cases.map((c) => `${c.id}\n${c.body.toString('base64')}`));
  });

  it('compares JSON as a Python client reads it: exact integers, floats apart from integers, keys in any order', () => {
    const same = (a: string, b: string) => canonical(parseExact(a)) === canonical(parseExact(b));
    expect(same('{"b":1,"a":[1e-7,"x"]}', '{"a":[1e-07,"x"],"b":1}')).toBe(true);
    expect(same('9007199254740993', '9007199254740992')).toBe(false);
    expect(same('1.0', '1')).toBe(false);
    expect(same('-0.0', '0.0')).toBe(false);
    expect(same('"1"', '1')).toBe(false);
    expect(canonical(parseExact('[1e16, 100000.0, 1.5e-5, -0.0, 123456789012345678901234567890]'))).toBe(
      '[1e+16,100000.0,1.5e-05,-0.0,123456789012345678901234567890]',
    );
    expect(canonical(parseExact('['.repeat(50_000) + ']'.repeat(50_000)))).toHaveLength(100_000);
  });

  it('reports a different status, a different 422 detail, a missing reply field; not an extra one', () => {
    const detail = (input: string) => `{"detail":[{"type":"string_type","loc":["body","model"],"msg":"Input should be a valid string","input":${input}}]}`;
    expect(compareOutcomes(outcome(422, detail('1')), outcome(400, '{"detail":"x"}')).map((d) => d.aspect)).toEqual(['status']);
    expect(compareOutcomes(outcome(422, detail('1.0')), outcome(422, detail('1'))).map((d) => d.aspect)).toEqual(['detail']);
    expect(compareOutcomes(outcome(422, detail('1')), outcome(422, `{"error":{},${detail('1').slice(1)}`))).toEqual([]);
    expect(compareOutcomes(outcome(200, '{"id":"a","usage":{"total_tokens":1}}'), outcome(200, '{"id":"b","usage":{}}')).map((d) => d.fastapi)).toEqual([
      '$.usage.total_tokens:int',
    ]);
    expect(compareOutcomes(outcome(200, '{"id":"a"}'), outcome(200, '{"id":"b","extra":1}'))).toEqual([]);
    expect(compareOutcomes(outcome(200, '{}'), outcome(200, 'data: {}', 'text/event-stream')).map((d) => d.aspect)).toEqual(['media']);
  });

  it('writes a request exactly as given, chunked when asked', () => {
    const bytes = requestBytes({
      method: 'POST',
      target: '/p',
      headers: [
        ['Content-Type', ''],
        ['X', 'a  b'],
      ],
      body: Buffer.from('héllo'),
      chunks: [2],
    });
    expect(bytes.toString('latin1')).toBe('POST /p HTTP/1.1\r\nContent-Type: \r\nX: a  b\r\n\r\n2\r\nh\xc3\r\n4\r\n\xa9llo\r\n0\r\n\r\n');
  });

  it("finds JSON's non-finite literals outside strings only", () => {
    expect(['{"n":NaN}', '[-Infinity]', 'Infinity'].map(hasNonFiniteLiteral)).toEqual([true, true, true]);
    expect(['{"n":"NaN"}', '{"a\\"NaN":1}', '{"n":xNaN}', '{"n":nan}'].map(hasNonFiniteLiteral)).toEqual([false, false, false, false]);
  });
});

(unavailable ? describe.skip : describe)(`FastAPI differential suite${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const cases = buildCorpus();
  let reference: ReferenceApp;
  let service: RunningApp;
  let results: CaseResult[];

  /** Runs a Python script in the chroot with the given input and returns what it printed. */
  const python = (script: string, input: string) => execFileSync('chroot', [ORACLE_ROOT, '/usr/bin/python3', '-c', script], { input, encoding: 'utf8' });

  beforeAll(async () => {
    reference = await startReference(KEY);
    service = await startApp({ API_KEYS: KEY });
    results = await runCorpus(cases, reference.port, Number(new URL(service.url).port));
    if (process.env.DIFFERENTIAL_REPORT) {
      const rows = results.map((r) => ({
        id: r.case.id,
        kept: keptReasonFor(r)?.id ?? null,
        differences: r.differences,
        described: r.differences.length ? describeResult(r) : undefined,
        fastapi: { ...r.fastapi, json: undefined },
        ours: { ...r.ours, json: undefined },
      }));
      writeFileSync(process.env.DIFFERENTIAL_REPORT, JSON.stringify({ versions: reference.versions, cases: cases.length, rows }, null, 1));
    }
  }, 300_000);
  afterAll(async () => {
    await service?.close();
    await reference?.stop();
  });

  it('runs against the reference the kept differences were written for (FastAPI 0.162, pydantic 2.14, Python 3.14)', () => {
    const minor = (v: string) => v.split('.').slice(0, 2).join('.');
    const { fastapi, pydantic, python: py } = reference.versions;
    expect({ fastapi: minor(fastapi), pydantic: minor(pydantic), python: minor(py) }).toEqual({ fastapi: '0.162', pydantic: '2.14', python: '3.14' });
  });

  it("writes floats as Python's repr does (generated doubles, checked by the reference's Python)", () => {
    const words = new Uint32Array(4000);
    let seed = 18;
    for (let i = 0; i < words.length; i++) words[i] = seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const view = new DataView(words.buffer);
    const doubles = Array.from({ length: words.length / 2 }, (_, i) => view.getFloat64(i * 8)).filter(Number.isFinite);
    doubles.push(0, -0, 1, 1e15, 1e16, 9999999999999998, 1e-4, 1e-5, 0.00012, 5e-324, 1.7976931348623157e308, 123.456, 2 ** 53 + 2);
    const hex = doubles.map((d) => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(d);
      return b.toString('hex');
    });
    const printed = python('import struct, sys\nfor h in sys.stdin.read().split(): print(repr(struct.unpack(">d", bytes.fromhex(h))[0]))', hex.join('\n'));
    expect(doubles.map(pythonFloatRepr)).toEqual(printed.trim().split('\n'));
  });

  it("reads a body's encoding as Python's json.detect_encoding does (every body of the corpus)", () => {
    const heads = cases.map((c) => c.body.subarray(0, 4).toString('hex'));
    const printed = python('import json, sys\nfor h in sys.stdin.read().split("\\n"): print(json.detect_encoding(bytes.fromhex(h)))', heads.join('\n'));
    expect(cases.map((c) => pythonJsonEncoding(c.body))).toEqual(printed.trim().split('\n'));
  });

  it('answers every case as FastAPI does, apart from the kept differences', () => {
    const unexpected = results.filter((r) => r.differences.length && !keptReasonFor(r));
    expect(`${unexpected.length} of ${results.length} cases differ unexpectedly\n\n${unexpected.map(describeResult).join('\n\n')}`).toBe(
      `0 of ${results.length} cases differ unexpectedly\n\n`,
    );
  });

  it('lists no kept difference that no longer occurs', () => {
    const stale = KEPT_DIFFERENCES.filter((k) => !results.some((r) => r.differences.length && k.covers(r))).map((k) => k.id);
    expect(stale).toEqual([]);
  });
});
