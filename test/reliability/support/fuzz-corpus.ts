import { isDeepStrictEqual } from 'node:util';

/**
 * A deterministic, seeded corpus of hostile requests for part 2. Every case says what must hold
 * beyond the rules for all (never a 5xx, never a hang, a well-formed JSON error body).
 */

export type Category =
  | 'wrong-type'
  | 'missing-field'
  | 'deep-nesting'
  | 'huge'
  | 'over-limit'
  | 'unicode'
  | 'prototype-keys'
  | 'nul-bytes'
  | 'content-type'
  | 'truncated'
  | 'mutated'
  | 'random-json'
  | 'auth'
  | 'method-path'
  | 'json-syntax'
  | 'numbers';

export interface Expect {
  /** Allowed statuses (default: anything below 500). */
  status?: number[];
  /** A 422 must list an issue at this `loc`. */
  loc?: (string | number)[];
  /** …of this pydantic type. */
  type?: string;
  /** …echoing this input (deep-equal, as JSON.parse reads it). */
  input?: Json;
  /** …whose input is written exactly so in the reply's text (numbers as Python writes them: `1.0`, exact integers). */
  inputText?: string;
  /** …whose `ctx.error` is this (Python 3.14's JSON message, for json_invalid). */
  ctxError?: string;
  /** An error that is not a 422: its `detail` string… */
  detail?: string;
  /** …and its `error.code`. */
  code?: string;
  /** The `Allow` header (a 405). */
  allow?: string;
  /** The connection may be closed instead of answered (bodies over the limit). */
  mayClose?: boolean;
}

export interface HttpCase {
  id: number;
  category: Category;
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  expect: Expect;
}

export interface RawCase {
  id: number;
  category: 'raw-protocol' | 'oversized-headers';
  name: string;
  pieces: (string | Buffer)[];
  gapMs?: number;
  /** After writing: half-close, reset, or keep the connection open until waitMs. */
  then: 'end' | 'destroy' | 'keep';
  waitMs: number;
  /** A response must come (rather than only a close). */
  mustAnswer?: boolean;
  /** The statuses of the responses, in order, exactly (`100` before the final one when the body is invited). */
  statuses?: number[];
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

export interface CorpusOptions {
  seed: number;
  /** Bearer token that the service accepts. */
  key: string;
  /** MAX_BODY_BYTES of the service under test. */
  maxBodyBytes: number;
  /** Models: the built-in echo, an upstream reached with the body forwarded as sent, one renamed on the way, and one translated for Anthropic. */
  models: { echo: string; passthrough: string; alias: string; anthropic: string };
  /** Tokens that must be refused (wrong key, bad JWTs…), by name. */
  badTokens: Record<string, string>;
}

const CHAT = '/v1/chat/completions';

/** FastAPI's answer to a JSON body its decoder cannot read: bytes that are not UTF-8, an integer of more than 4,300 digits. */
const UNREADABLE: Expect = { status: [400], detail: 'There was an error parsing the body', code: 'bad_request' };

/**
 * Whether FastAPI reads a body sent with this Content-Type as JSON: the value as Python's email.message
 * reads it (up to the first `;`, stripped, lower-cased; without exactly one `/` it is text/plain) is
 * application/json or application/<anything>+json. A missing or empty header leaves the body text.
 */
function readsAsJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const parts = contentType.split(';')[0].trim().toLowerCase().split('/');
  return parts.length === 2 && parts[0] === 'application' && (parts[1] === 'json' || parts[1].endsWith('+json'));
}

const WRONG_VALUES: Json[] = [null, true, false, 0, -1, 1.5, 1e308, -0, '', 'str', [], [null], [1, 'a'], {}, { a: 1 }, '\u0000', 'x'.repeat(1000), [[[]]]];

function clone<T extends Json>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Every path inside a JSON value, the root included. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function setAt(root: Json, path: Path, value: Json | undefined): Json | undefined {
  if (path.length === 0) return value;
  const copy = clone(root);
  let node = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a body whose value at `path` was replaced by `value` must get. */
function oracle(path: Path, value: Json | undefined, models: CorpusOptions['models']): Expect {
  const [head, index] = path;
  if (path.length === 0)
    return isObj(value) ? { status: [422] } : { status: [422], loc: ['body'], type: value === undefined ? 'missing' : 'model_attributes_type' };
  if (head === 'model' && path.length === 1) {
    if (value === undefined) return { status: [422], loc: ['body', 'model'], type: 'missing' };
    if (typeof value !== 'string') return { status: [422], loc: ['body', 'model'], type: 'string_type' };
    return { status: Object.values(models).includes(value) ? [200] : [404] };
  }
  if (head === 'messages' && path.length === 1) {
    if (value === undefined) return { status: [422], loc: ['body', 'messages'], type: 'missing' };
    if (!Array.isArray(value)) return { status: [422], loc: ['body', 'messages'], type: 'list_type' };
    const bad = value.findIndex((m) => !isObj(m));
    return bad === -1 ? { status: [200] } : { status: [422], loc: ['body', 'messages', bad], type: 'dict_type' };
  }
  if (head === 'messages' && path.length === 2) {
    if (value === undefined) return { status: [200] };
    return isObj(value) ? { status: [200] } : { status: [422], loc: ['body', 'messages', index], type: 'dict_type' };
  }
  if (head === 'stream' && path.length === 1) {
    return value === undefined || value === null || typeof value === 'boolean'
      ? { status: [200] }
      : { status: [422], loc: ['body', 'stream'], type: 'bool_type' };
  }
  if (head === 'stream_options' && path.length === 1) {
    return value === undefined || value === null || isObj(value) ? { status: [200] } : { status: [422], loc: ['body', 'stream_options'], type: 'dict_type' };
  }
  // Everything else is open by contract: kept and handed on; the backend may answer or refuse, never fail.
  return {};
}

/** The valid requests the corpus is made from. */
function bases(models: CorpusOptions['models']): { name: string; body: Record<string, Json> }[] {
  const rich = (model: string, stream: boolean): Record<string, Json> => ({
    model,
    messages: [
      { role: 'system', content: 'be brief' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi there' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
        name: 'u1',
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'result' },
      { role: 'user', content: 'hello world again' },
    ],
    stream,
    stream_options: { include_usage: true },
    temperature: 0.2,
    max_tokens: 16,
    stop: ['\n'],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'integer' } } } } }],
    tool_choice: 'auto',
    response_format: { type: 'json_object' },
    metadata: { a: { b: [1, 2, { c: null }] } },
  });
  const small = (model: string): Record<string, Json> => ({ model, messages: [{ role: 'user', content: 'hello world' }], stream: false });
  return [
    { name: 'echo/small', body: small(models.echo) },
    { name: 'echo/rich/stream', body: rich(models.echo, true) },
    { name: 'echo/rich', body: rich(models.echo, false) },
    { name: 'passthrough/small', body: small(models.passthrough) },
    { name: 'passthrough/rich/stream', body: rich(models.passthrough, true) },
    { name: 'alias/small', body: small(models.alias) },
    { name: 'alias/rich/stream', body: rich(models.alias, true) },
    { name: 'anthropic/small', body: small(models.anthropic) },
    { name: 'anthropic/rich/stream', body: rich(models.anthropic, true) },
    { name: 'anthropic/rich', body: rich(models.anthropic, false) },
  ];
}

function nest(depth: number, kind: 'array' | 'object', leaf = '1'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

const UNICODE: Record<string, string> = {
  'lone high surrogate': '"\\ud800"',
  'lone low surrogate': '"\\udc00"',
  'reversed surrogate pair': '"\\udc00\\ud800"',
  'raw lone surrogate (literal)': JSON.stringify('a\ud800b'),
  'BOM inside': '"\ufeffhello"',
  'RTL override': '"\u202egnp.exe\u202c"',
  'zero-width': '"a\u200b\u200c\u200d\u2060b"',
  '4-byte emoji': '"😀👩‍👩‍👧‍👦🏳️‍🌈 𝕳𝖊𝖑𝖑𝖔"',
  'combining marks': '"Z\u0351\u0357\u0300\u0301\u0302\u0303\u0304a\u0305\u0306"',
  'line and paragraph separators': '"a\u2028b\u2029c"',
  'escaped NUL': '"a\\u0000b"',
  'all escapes': '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"',
  noncharacters: '"\ufffe\uffff\ufdd0"',
  'astral private use': '"\udb80\udc00"',
  'CJK and Arabic': '"漢字 مرحبا עברית"',
};

/** Raw bytes, and whether they are UTF-8: a JSON body that is not is FastAPI's 400, wherever the bytes are. */
const RAW_BYTES: Record<string, { bytes: Buffer; utf8: boolean }> = {
  'invalid UTF-8 (0xff 0xfe)': { bytes: Buffer.from([0xff, 0xfe]), utf8: false },
  'overlong slash (0xc0 0xaf)': { bytes: Buffer.from([0xc0, 0xaf]), utf8: false },
  'CESU surrogate bytes (0xed 0xa0 0x80)': { bytes: Buffer.from([0xed, 0xa0, 0x80]), utf8: false },
  'truncated 4-byte sequence': { bytes: Buffer.from([0xf0, 0x9f, 0x98]), utf8: false },
  'raw NUL byte': { bytes: Buffer.from([0x00]), utf8: true },
  'raw DEL and C1 controls': { bytes: Buffer.from([0x7f, 0xc2, 0x80, 0xc2, 0x9f]), utf8: true },
  'raw tab inside a string': { bytes: Buffer.from([0x09]), utf8: true },
};
/** Bytes that JSON allows between tokens (so a body with them outside strings stays valid). */
const JSON_WHITESPACE = new Set(['raw tab inside a string']);

/** Builds the whole corpus; the same seed gives the same cases, byte for byte. */
export function buildCorpus(o: CorpusOptions): { http: HttpCase[]; raw: RawCase[] } {
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const http: HttpCase[] = [];
  const raw: RawCase[] = [];
  const json = { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' };
  const add = (
    category: Category,
    name: string,
    body: string | Buffer | undefined,
    expect: Expect = {},
    headers: Record<string, string> = json,
    method = 'POST',
    path = CHAT,
  ) => http.push({ id: http.length, category, name, method, path, headers, body, expect });
  const baseList = bases(o.models);

  // Wrong types at every depth, and every field missing in turn.
  for (const base of baseList) {
    for (const path of paths(base.body)) {
      for (const value of WRONG_VALUES) {
        const body = setAt(base.body, path, value);
        add('wrong-type', `${base.name} ${JSON.stringify(path)} = ${JSON.stringify(value)?.slice(0, 30)}`, JSON.stringify(body), oracle(path, value, o.models));
      }
      if (path.length > 0)
        add(
          'missing-field',
          `${base.name} without ${JSON.stringify(path)}`,
          JSON.stringify(setAt(base.body, path, undefined)),
          oracle(path, undefined, o.models),
        );
    }
  }

  // Deep nesting at each place, for each kind of model (V8 parses it; whatever recurses afterwards must not fail).
  const deepPlaces: { name: string; make: (d: string, model: string) => string; expect: (kind: 'array' | 'object') => Expect }[] = [
    {
      name: 'as the body',
      make: (d) => d,
      expect: (k) => (k === 'array' ? { status: [422], loc: ['body'], type: 'model_attributes_type' } : { status: [422] }),
    },
    { name: 'as model', make: (d) => `{"model":${d},"messages":[]}`, expect: () => ({ status: [422], loc: ['body', 'model'], type: 'string_type' }) },
    {
      name: 'as messages',
      make: (d, m) => `{"model":"${m}","messages":${d}}`,
      expect: (k) =>
        k === 'array' ? { status: [422], loc: ['body', 'messages', 0], type: 'dict_type' } : { status: [422], loc: ['body', 'messages'], type: 'list_type' },
    },
    { name: 'as message content', make: (d, m) => `{"model":"${m}","messages":[{"role":"user","content":${d}}]}`, expect: () => ({ status: [200] }) },
    {
      name: 'in an unknown field',
      make: (d, m) => `{"model":"${m}","messages":[{"role":"user","content":"hi"}],"x_vendor":${d}}`,
      expect: () => ({ status: [200] }),
    },
    {
      name: 'in an unknown field, streamed',
      make: (d, m) => `{"model":"${m}","stream":true,"messages":[{"role":"user","content":"hi"}],"x_vendor":${d}}`,
      expect: () => ({ status: [200] }),
    },
    {
      name: 'as stream_options',
      make: (d, m) => `{"model":"${m}","messages":[],"stream_options":${d}}`,
      expect: (k) => (k === 'object' ? { status: [200] } : { status: [422], loc: ['body', 'stream_options'], type: 'dict_type' }),
    },
    {
      name: 'as stream',
      make: (d, m) => `{"model":"${m}","messages":[],"stream":${d}}`,
      expect: () => ({ status: [422], loc: ['body', 'stream'], type: 'bool_type' }),
    },
    {
      name: 'in tools',
      make: (d, m) => `{"model":"${m}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${d}}}]}`,
      expect: () => ({ status: [200] }),
    },
  ];
  for (const depth of [1_000, 10_000, 100_000]) {
    for (const kind of ['array', 'object'] as const) {
      for (const place of deepPlaces) {
        for (const model of Object.values(o.models)) {
          if (place.name === 'as the body' || place.name === 'as model') {
            if (model !== o.models.echo) continue;
          }
          const expect = place.expect(kind);
          // A backend that must re-serialise the body (renamed model, Anthropic translation) may refuse what it cannot write: a 400, never a 5xx.
          const reserialised = (model === o.models.alias || model === o.models.anthropic) && isDeepStrictEqual(expect.status, [200]);
          add(
            'deep-nesting',
            `${kind} ${depth} deep ${place.name} (${model})`,
            place.make(nest(depth, kind), model),
            reserialised ? { status: [200, 400] } : expect,
          );
        }
      }
    }
  }

  // Huge strings and arrays within the limit, and bodies over it.
  const M = o.maxBodyBytes;
  const fill = (prefix: string, suffix: string, total: number, unit = 'lorem ') => {
    const room = total - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
    const s = unit.repeat(Math.floor(room / unit.length));
    return prefix + s + ' '.repeat(room - s.length) + suffix;
  };
  const wrap = () => [`{"model":"${o.models.echo}","messages":[{"role":"user","content":"`, `"}]}`] as const;
  add('huge', 'content just under the limit', fill(...wrap(), M - 64), { status: [200] });
  add('huge', 'body of exactly MAX_BODY_BYTES', fill(...wrap(), M), { status: [200] });
  add(
    'huge',
    'streamed reply of a 4 MB content',
    fill(`{"model":"${o.models.echo}","stream":true,"messages":[{"role":"user","content":"`, `"}]}`, 4 * 1024 * 1024),
    { status: [200] },
  );
  add('huge', 'one 9 MB word', fill(...wrap(), M - 1024 * 1024, 'x'), { status: [200] });
  add(
    'huge',
    'content to the passthrough upstream',
    fill(`{"model":"${o.models.passthrough}","messages":[{"role":"user","content":"`, `"}]}`, 5 * 1024 * 1024),
    { status: [200] },
  );
  add('huge', 'content to the alias upstream', fill(`{"model":"${o.models.alias}","messages":[{"role":"user","content":"`, `"}]}`, 5 * 1024 * 1024), {
    status: [200],
  });
  add(
    'huge',
    '100,000 messages',
    JSON.stringify({ model: o.models.echo, messages: Array.from({ length: 100_000 }, (_, i) => ({ role: 'user', content: `m${i}` })) }),
    { status: [200] },
  );
  add('huge', '300,000 empty messages', `{"model":"${o.models.echo}","messages":[${'{},'.repeat(299_999)}{}]}`, { status: [200] });
  add('huge', '20,000 messages that are not objects', `{"model":"${o.models.echo}","messages":[${'1,'.repeat(19_999)}1]}`, {
    status: [422],
    loc: ['body', 'messages', 0],
    type: 'dict_type',
  });
  add(
    'huge',
    'an object of 200,000 keys',
    `{"model":"${o.models.echo}","messages":[],"x":{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(',')}}}`,
    { status: [200] },
  );
  add('huge', 'a 1 MB model name', `{"model":"${'m'.repeat(1024 * 1024)}","messages":[]}`, { status: [404] });
  add('huge', 'a 1 MB key', `{"model":"${o.models.echo}","messages":[],"${'k'.repeat(1024 * 1024)}":1}`, { status: [200] });
  // Python reads an integer of at most 4,300 digits; past that FastAPI cannot parse the body (400), whatever else is wrong with it.
  add('huge', 'a number of 1,000,000 digits', `{"model":"${o.models.echo}","messages":[],"max_tokens":1${'0'.repeat(1_000_000)}}`, UNREADABLE);
  add('huge', 'an integer of 4,300 digits in an unknown field', `{"model":"${o.models.echo}","messages":[],"x":${'7'.repeat(4300)}}`, { status: [200] });
  add('huge', 'an integer of 4,301 digits in an unknown field', `{"model":"${o.models.echo}","messages":[],"x":${'7'.repeat(4301)}}`, UNREADABLE);
  add(
    'huge',
    'a negative integer of 4,301 digits in a message',
    `{"model":"${o.models.echo}","messages":[{"role":"user","content":"hi","x":-${'7'.repeat(4301)}}]}`,
    UNREADABLE,
  );
  add('huge', 'an integer of 4,301 digits beside a model that is not a string', `{"model":5,"messages":[],"x":${'7'.repeat(4301)}}`, UNREADABLE);
  add('huge', 'a float of 1,000,000 fraction digits', `{"model":"${o.models.echo}","messages":[],"x":1.${'3'.repeat(1_000_000)}}`, { status: [200] });
  add('huge', 'an integer of 1,000,000 digits with an exponent (a float)', `{"model":"${o.models.echo}","messages":[],"x":${'3'.repeat(1_000_000)}e-999999}`, {
    status: [200],
  });
  add('huge', 'a string of 1,000,000 digits', `{"model":"${o.models.echo}","messages":[],"x":"${'3'.repeat(1_000_000)}"}`, { status: [200] });
  add('huge', '1,000,000 whitespace before the body', `${' '.repeat(1_000_000)}{"model":"${o.models.echo}","messages":[]}`, { status: [200] });
  add('huge', 'an array of 1,000,000 nulls in an unknown field', `{"model":"${o.models.echo}","messages":[],"x":[${'null,'.repeat(999_999)}null]}`, {
    status: [200],
  });
  add('over-limit', 'MAX_BODY_BYTES + 1', fill(...wrap(), M + 1), { status: [413], mayClose: true });
  add('over-limit', '2 × MAX_BODY_BYTES', fill(...wrap(), 2 * M), { status: [413], mayClose: true });
  add('over-limit', '3 × MAX_BODY_BYTES of garbage', Buffer.alloc(3 * M, 0x41), { status: [413], mayClose: true });
  add('over-limit', 'MAX_BODY_BYTES + 1, no content type', fill(...wrap(), M + 1), { status: [413], mayClose: true }, { authorization: `Bearer ${o.key}` });
  add('over-limit', 'MAX_BODY_BYTES + 1 without a key', fill(...wrap(), M + 1), { status: [401, 413], mayClose: true }, { 'content-type': 'application/json' });

  // Unicode edge cases, in every kind of place.
  for (const [name, lit] of Object.entries(UNICODE)) {
    for (const model of Object.values(o.models)) {
      add('unicode', `${name} in content (${model})`, `{"model":"${model}","messages":[{"role":"user","content":${lit}}]}`, { status: [200] });
      add('unicode', `${name} in content, streamed (${model})`, `{"model":"${model}","stream":true,"messages":[{"role":"user","content":${lit}}]}`, {
        status: [200],
      });
      add('unicode', `${name} as a key (${model})`, `{"model":"${model}","messages":[{"role":"user","content":"hi",${lit}:${lit}}],${lit}:1}`, {
        status: [200],
      });
    }
    add('unicode', `${name} as the model`, `{"model":${lit},"messages":[]}`, { status: [404] });
    add('unicode', `${name} as a role`, `{"model":"${o.models.echo}","messages":[{"role":${lit},"content":"x"}]}`, { status: [200] });
  }
  // A UTF-8 BOM is skipped (Python decodes utf-8-sig): the body after it is answered, offsets counted from after it.
  add('unicode', 'a BOM before the body', `\ufeff{"model":"${o.models.echo}","messages":[]}`, { status: [200] });
  add('unicode', 'a BOM before a body without model', `\ufeff{"messages":[]}`, {
    status: [422],
    loc: ['body', 'model'],
    type: 'missing',
    input: { messages: [] },
  });
  add('unicode', 'a BOM before invalid JSON', `\ufeff{"model": echo}`, { status: [422], loc: ['body', 10], type: 'json_invalid', ctxError: 'Expecting value' });
  add('unicode', 'two BOMs before the body', `\ufeff\ufeff{"model":"${o.models.echo}","messages":[]}`, {
    status: [422],
    loc: ['body', 0],
    type: 'json_invalid',
    ctxError: 'Expecting value',
  });
  // UTF-16 and UTF-32 are refused (RFC 8259; a kept difference, Python reads them): as UTF-8 they are invalid JSON, or with a BOM not UTF-8 at all.
  const small = `{"model":"${o.models.echo}","messages":[]}`;
  add('unicode', 'UTF-16LE body', Buffer.from(small, 'utf16le'), {
    status: [422],
    loc: ['body', 1],
    type: 'json_invalid',
    ctxError: 'Expecting property name enclosed in double quotes',
  });
  add('unicode', 'UTF-16BE body', Buffer.from(small, 'utf16le').swap16(), {
    status: [422],
    loc: ['body', 0],
    type: 'json_invalid',
    ctxError: 'Expecting value',
  });
  add('unicode', 'UTF-16 body with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(small, 'utf16le')]), UNREADABLE);
  add('unicode', 'UTF-16BE body with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(small, 'utf16le').swap16()]), UNREADABLE);
  const utf32le = Buffer.concat([...small].map((ch) => Buffer.from([ch.charCodeAt(0), 0, 0, 0])));
  add('unicode', 'UTF-32LE body', utf32le, {
    status: [422],
    loc: ['body', 1],
    type: 'json_invalid',
    ctxError: 'Expecting property name enclosed in double quotes',
  });
  add('unicode', 'UTF-32 body with BOM', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), utf32le]), UNREADABLE);
  for (const [name, { bytes, utf8 }] of Object.entries(RAW_BYTES)) {
    for (const model of [o.models.echo, o.models.alias, o.models.anthropic]) {
      const inString =
        name.includes('NUL') || name.includes('tab') ? { status: [422], type: 'json_invalid', ctxError: 'Invalid control character at' } : { status: [200] };
      add(
        'unicode',
        `${name} inside a string (${model})`,
        Buffer.concat([Buffer.from(`{"model":"${model}","messages":[{"role":"user","content":"a`), bytes, Buffer.from('b"}]}')]),
        utf8 ? inString : UNREADABLE,
      );
    }
    const outside = JSON_WHITESPACE.has(name) ? { status: [200] } : { status: [422], type: 'json_invalid' };
    add(
      'unicode',
      `${name} outside strings`,
      Buffer.concat([Buffer.from(`{"model":"${o.models.echo}",`), bytes, Buffer.from('"messages":[]}')]),
      utf8 ? outside : UNREADABLE,
    );
  }
  // Decoding comes before parsing: invalid UTF-8 in invalid JSON is the 400. A body that is not JSON is text: a 422 (FastAPI fails with a 500 decoding it for the reply).
  add('unicode', 'invalid UTF-8 in invalid JSON', Buffer.concat([Buffer.from('{"model": '), Buffer.from([0xff])]), UNREADABLE);
  add(
    'unicode',
    'invalid UTF-8 in a text/plain body',
    Buffer.concat([Buffer.from(`{"model":"${o.models.echo}",`), Buffer.from([0xff]), Buffer.from('}')]),
    { status: [422], loc: ['body'], type: 'model_attributes_type' },
    {
      authorization: `Bearer ${o.key}`,
      'content-type': 'text/plain',
    },
  );

  // __proto__, constructor and prototype keys at several depths (and other Object.prototype names).
  const protoPayloads = ['{"polluted":"yes"}', '{"stream":true,"model":"hijack"}', 'null', '[]', '1', '{"constructor":{"prototype":{"polluted":"yes"}}}'];
  const protoKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'toJSON', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
  for (const key of protoKeys) {
    for (const payload of protoPayloads) {
      for (const model of Object.values(o.models)) {
        const k = JSON.stringify(key);
        add('prototype-keys', `${key}=${payload} at the root (${model})`, `{${k}:${payload},"model":"${model}","messages":[{"role":"user","content":"hi"}]}`, {
          status: [200],
        });
        add('prototype-keys', `${key}=${payload} in a message (${model})`, `{"model":"${model}","messages":[{"role":"user","content":"hi",${k}:${payload}}]}`, {
          status: [200],
        });
        add(
          'prototype-keys',
          `${key}=${payload} in a content part, streamed (${model})`,
          `{"model":"${model}","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"hi",${k}:${payload}}]}]}`,
          { status: [200] },
        );
        add(
          'prototype-keys',
          `${key}=${payload} in stream_options (${model})`,
          `{"model":"${model}","stream":true,"stream_options":{${k}:${payload},"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
          { status: [200] },
        );
        add(
          'prototype-keys',
          `${key}=${payload} three levels down (${model})`,
          `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"metadata":{"a":{"b":{${k}:${payload}}}}}`,
          { status: [200] },
        );
      }
      add('prototype-keys', `${key}=${payload} instead of model and messages`, `{${JSON.stringify(key)}:${payload}}`, { status: [422] });
    }
  }

  // NUL bytes (escaped, and raw where JSON allows none).
  for (const model of Object.values(o.models)) {
    add('nul-bytes', `escaped NUL in model (${model})`, `{"model":"${model}\\u0000","messages":[]}`, { status: [404] });
    add('nul-bytes', `escaped NUL in a key (${model})`, `{"model":"${model}","messages":[{"role":"user","content":"a","x\\u0000y":1}],"\\u0000":"\\u0000"}`, {
      status: [200],
    });
    add('nul-bytes', `escaped NULs as the content (${model})`, `{"model":"${model}","messages":[{"role":"user","content":"${'\\u0000'.repeat(1000)}"}]}`, {
      status: [200],
    });
    add('nul-bytes', `escaped NUL as the role (${model})`, `{"model":"${model}","messages":[{"role":"\\u0000","content":"x"}]}`, { status: [200] });
  }
  add('nul-bytes', 'a body of NUL bytes', Buffer.alloc(4096), { status: [422], type: 'json_invalid' });
  add('nul-bytes', 'NUL after a valid body', Buffer.concat([Buffer.from(`{"model":"${o.models.echo}","messages":[]}`), Buffer.from([0])]), {
    status: [422],
    type: 'json_invalid',
  });

  // Content types, with a valid body, an invalid one, an empty one and form data. A body FastAPI does not read
  // as JSON is text, validated as the body (model_attributes_type, the text as input); never a 415.
  const contentTypes = [
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/vnd.api+json',
    'Application/Vnd.Foo+JSON; charset=utf-8',
    'application/json, text/plain',
    'application/xml',
    'image/png',
    'application/json;;;',
    ';',
    '; charset=utf-8',
    '*/*',
    'application',
    'json',
    'application/',
    'application/json/x',
    'application /json',
    'text/plain; application/json',
    `application/${'x'.repeat(4000)}+json`,
    'text/event-stream',
  ];
  const validBody = `{"model":"${o.models.echo}","messages":[{"role":"user","content":"hi"}]}`;
  const invalidBody = '{"model": echo';
  const formBody = 'model=echo&messages=hi';
  const asText = (text: string): Expect => ({ status: [422], loc: ['body'], type: 'model_attributes_type', input: text });
  for (const ct of [undefined, ...contentTypes]) {
    const headers: Record<string, string> = { authorization: `Bearer ${o.key}` };
    if (ct !== undefined) headers['content-type'] = ct;
    const isJson = readsAsJson(ct);
    const name = (what: string) => `${JSON.stringify(ct ?? null)?.slice(0, 60)} with ${what}`;
    add('content-type', name('valid JSON'), validBody, isJson ? { status: [200] } : asText(validBody), headers);
    add(
      'content-type',
      name('invalid JSON'),
      invalidBody,
      isJson ? { status: [422], loc: ['body', 10], type: 'json_invalid', ctxError: 'Expecting value' } : asText(invalidBody),
      headers,
    );
    add('content-type', name('an empty body'), '', { status: [422], loc: ['body'], type: 'missing', input: null }, headers);
    add(
      'content-type',
      name('form data'),
      formBody,
      isJson ? { status: [422], loc: ['body', 0], type: 'json_invalid', ctxError: 'Expecting value' } : asText(formBody),
      headers,
    );
  }

  // Every prefix of two valid bodies: a prefix of a JSON object is never valid JSON.
  for (const text of [JSON.stringify(baseList[0].body), JSON.stringify(baseList[1].body)]) {
    for (let cut = 0; cut < text.length; cut++) {
      const prefix = text.slice(0, cut);
      add(
        'truncated',
        `first ${cut} characters`,
        prefix,
        cut === 0 ? { status: [422], loc: ['body'], type: 'missing' } : { status: [422], type: 'json_invalid' },
      );
    }
  }

  // Syntax errors, each at the offset and with the message of Python 3.14's json (as FastAPI 0.162 answers them).
  const syntax: [string, number, string][] = [
    [`{"model":"${o.models.echo}","messages":[],}`, 29, 'Illegal trailing comma before end of object'],
    [`{"model":"${o.models.echo}" , "messages":[] , }`, 32, 'Illegal trailing comma before end of object'],
    [`{"model":"${o.models.echo}","messages":[{"role":"user","content":"hi",}]}`, 57, 'Illegal trailing comma before end of object'],
    [`{"model":"${o.models.echo}","messages":[{"role":"user","content":"hi"},]}`, 58, 'Illegal trailing comma before end of array'],
    [`{"model":"${o.models.echo}","messages":[[1,2,],3]}`, 32, 'Illegal trailing comma before end of array'],
    ['[1,]', 2, 'Illegal trailing comma before end of array'],
    [`{"model":"${o.models.echo}","messages":[,]}`, 28, 'Expecting value'],
    ['{,}', 1, 'Expecting property name enclosed in double quotes'],
    [`{"model":"${o.models.echo}\\`, 9, 'Unterminated string starting at'],
    [`{"model":"${o.models.echo}","messages":[{"role":"user","content":"a\\`, 53, 'Unterminated string starting at'],
    [`{"model":"${o.models.echo}","messages":[{"role":"user","content":"a\\\\\\`, 53, 'Unterminated string starting at'],
    [`{"model":"${o.models.echo}\\u12`, 15, 'Invalid \\uXXXX escape'],
    [`{"model":"${o.models.echo}\\x"}`, 14, 'Invalid \\escape'],
    [`{"model":"${o.models.echo}","messages":[]}}`, 30, 'Extra data'],
    [`{"model":"${o.models.echo}","messages":[]} x`, 31, 'Extra data'],
    [`{"model" "${o.models.echo}"}`, 9, "Expecting ':' delimiter"],
    [`{"model":"${o.models.echo}" "messages":[]}`, 16, "Expecting ',' delimiter"],
    [`{'model':'${o.models.echo}'}`, 1, 'Expecting property name enclosed in double quotes'],
    [`{"model":"${o.models.echo}","messages":[],"n":01}`, 35, "Expecting ',' delimiter"],
    [`{"model":"${o.models.echo}","messages":[],"n":1.}`, 35, "Expecting ',' delimiter"],
    [`{"model":"${o.models.echo}","messages":[],"n":.5}`, 34, 'Expecting value'],
    [`{"model":"${o.models.echo}","messages":[],"n":tru}`, 34, 'Expecting value'],
    [`{"model":"ec\u0001ho","messages":[]}`, 12, 'Invalid control character at'],
    [`{"model":"${o.models.echo}","messages":[]`, 29, "Expecting ',' delimiter"],
    ['   ', 3, 'Expecting value'],
  ];
  for (const [text, at, message] of syntax)
    add('json-syntax', `${message} at ${at}: ${text.slice(0, 60)}`, text, { status: [422], loc: ['body', at], type: 'json_invalid', ctxError: message });

  // A 422 echoes a number as Python reads it and FastAPI writes it back (a float stays a float, an integer stays exact).
  const numbers: [string, string][] = [
    ['1.0', '1.0'],
    ['-0.0', '-0.0'],
    ['-0', '0'],
    ['100.0', '100.0'],
    ['1E2', '100.0'],
    ['1.0e0', '1.0'],
    ['0.1', '0.1'],
    ['123e-2', '1.23'],
    ['1e-5', '1e-05'],
    ['1.5e-7', '1.5e-07'],
    ['5e15', '5000000000000000.0'],
    ['1e16', '1e+16'],
    ['12345678901234567890.5', '1.2345678901234567e+19'],
    ['9007199254740993', '9007199254740993'],
    [`-1${'2'.repeat(40)}`, `-1${'2'.repeat(40)}`],
  ];
  for (const [sent, echoed] of numbers) {
    add('numbers', `${sent} as the model`, `{"model":${sent},"messages":[]}`, {
      status: [422],
      loc: ['body', 'model'],
      type: 'string_type',
      inputText: echoed,
    });
    add('numbers', `${sent} as a message`, `{"model":"${o.models.echo}","messages":[${sent}]}`, {
      status: [422],
      loc: ['body', 'messages', 0],
      type: 'dict_type',
      inputText: echoed,
    });
  }
  add('numbers', 'a body without model: numbers and key order kept', '{"messages":[],"2":-0.0,"n":1.0,"a":{"z":1,"1":2}}', {
    status: [422],
    loc: ['body', 'model'],
    type: 'missing',
    inputText: '{"messages":[],"2":-0.0,"n":1.0,"a":{"z":1,"1":2}}',
  });

  // Seeded byte-level mutations of valid bodies.
  const sources = baseList.map((b) => Buffer.from(JSON.stringify(b.body)));
  const junk = ['{', '}', '[', ']', '"', ',', ':', '\\', 'null', '1e999', '-', '\u0000', '\ud800', '\n', ' ', 'true', '"__proto__"', '{}', '[]'];
  for (let i = 0; i < 700; i++) {
    let buf = Buffer.from(pick(sources));
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * buf.length);
      const op = rand();
      if (op < 0.35) buf[at] = Math.floor(rand() * 256);
      else if (op < 0.6) buf = Buffer.concat([buf.subarray(0, at), Buffer.from(pick(junk)), buf.subarray(at)]);
      else if (op < 0.85) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + 1 + Math.floor(rand() * 20)))]);
      else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + 30), buf.subarray(at)]);
    }
    add('mutated', `mutation #${i}`, buf);
  }

  // Seeded random JSON documents that use the request's field names.
  const keys = [
    'model',
    'messages',
    'role',
    'content',
    'stream',
    'stream_options',
    'include_usage',
    'type',
    'text',
    'tools',
    'n',
    '__proto__',
    'constructor',
    'x',
  ];
  const value = (depth: number): Json => {
    const r = rand();
    if (depth > 5 || r < 0.3)
      return pick<Json>([null, true, false, 0, -1, 3.5, 1e21, '', 'echo', o.models.echo, o.models.passthrough, o.models.alias, 'user', '\ud83d', 'text']);
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const obj: Record<string, Json> = {};
    for (let k = Math.floor(rand() * 5); k > 0; k--) obj[pick(keys)] = value(depth + 1);
    return obj;
  };
  for (let i = 0; i < 500; i++) {
    const doc =
      rand() < 0.7 ? { model: pick([o.models.echo, o.models.passthrough, o.models.alias, 5, null]), messages: value(1), ...(value(2) as object) } : value(0);
    add('random-json', `random document #${i}`, JSON.stringify(doc));
  }

  // Keys, tokens and schemes that must be refused.
  const tokenCases: Record<string, string | undefined> = {
    'no Authorization header': undefined,
    'an empty Authorization header': '',
    'the scheme alone': 'Bearer',
    'an empty token': 'Bearer ',
    'Basic credentials': 'Basic dXNlcjpwYXNz',
    'a token of 8,000 characters': `Bearer ${'a'.repeat(8_000)}`,
    'a token with a NUL escape': 'Bearer sk-\\u0000',
    'a JWT-looking garbage token': 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    'an unsigned JWT (alg none)': `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"root","exp":9999999999}').toString('base64url')}.`,
    'the key twice': `Bearer ${o.key} ${o.key}`,
    'a tab instead of the space': `Bearer\t${o.key}`,
    ...Object.fromEntries(Object.entries(o.badTokens).map(([name, t]) => [name, `Bearer ${t}`])),
  };
  for (const [name, value] of Object.entries(tokenCases)) {
    for (const stream of [false, true]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (value !== undefined) headers.authorization = value;
      add(
        'auth',
        `${name}${stream ? ', streamed' : ''}`,
        `{"model":"${o.models.echo}","stream":${stream},"messages":[{"role":"user","content":"hi"}]}`,
        { status: [401], code: 'invalid_api_key' },
        headers,
      );
    }
  }
  // What FastAPI's HTTPBearer accepts: the scheme in any case, the key with white space stripped from both ends.
  const accepted: Record<string, string> = {
    'two spaces before the key': `Bearer  ${o.key}`,
    'a space and a tab before the key': `Bearer \t${o.key}`,
    'the scheme in lower case': `bearer ${o.key}`,
  };
  for (const [name, value] of Object.entries(accepted)) {
    add(
      'auth',
      `${name} (accepted)`,
      `{"model":"${o.models.echo}","messages":[{"role":"user","content":"hi"}]}`,
      { status: [200] },
      { authorization: value, 'content-type': 'application/json' },
    );
  }

  // Unknown methods and paths, answered as FastAPI routes them: the chat path with another method is 405 with
  // Allow (a query changes nothing), any other path 404 Not Found, each with OpenAI's error object.
  const routing = (method: string, path: string): Expect => {
    if (path.split('?')[0] === CHAT)
      return method === 'POST' ? { status: [200] } : { status: [405], detail: 'Method Not Allowed', code: 'method_not_allowed', allow: 'POST' };
    return { status: [404], detail: 'Not Found', code: 'not_found' };
  };
  const methods = ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK', 'POST'];
  const pathsToTry = [
    '/',
    '/v1',
    '/v1/',
    '/v1/chat',
    '/v1/chat/completions/x',
    '/v1/completions',
    '/v1/embeddings',
    '/v1/models/echo',
    '/v2/chat/completions',
    '//v1//chat//completions',
    '/v1/chat/completions%00',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/v1/chat/completions;jsessionid=1',
    '/%ZZ',
    '/%',
    `/v1/${'a'.repeat(4000)}`,
    '/%C3%BC%C3%B1%C3%AF',
    '/v1/chat/completions?x=%00&y=%ZZ&z',
    `/v1/chat/completions?${'a=1&'.repeat(500)}`,
    '/V1/CHAT/COMPLETIONS',
    '/v1/chat/completions/.',
    '/v1/health/..',
    '/metrics/x',
    '/docs/../../x',
    '/openapi.json/x',
    '*',
  ];
  for (const method of methods) {
    for (const path of pathsToTry) {
      if (method === 'POST' && path === CHAT) continue;
      const body = method === 'GET' || method === 'HEAD' ? undefined : validBody;
      add('method-path', `${method} ${path.slice(0, 60)}`, body, routing(method, path), json, method, path);
    }
  }
  for (const method of ['PUT', 'PATCH', 'DELETE', 'GET'])
    add('method-path', `${method} ${CHAT}`, method === 'GET' ? undefined : validBody, routing(method, CHAT), json, method, CHAT);

  // Raw sockets: truncated and chunked garbage, framing conflicts, oversized headers.
  const reqHead = (extra: string) =>
    `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${o.key}\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const chunked = (parts: string[]) => parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n';
  const addRaw = (
    category: RawCase['category'],
    name: string,
    pieces: (string | Buffer)[],
    then: RawCase['then'],
    waitMs = 1500,
    extra: Partial<RawCase> = {},
  ) => raw.push({ id: raw.length, category, name, pieces, then, waitMs, ...extra });
  addRaw('raw-protocol', 'partial body, then half-close', [reqHead('Content-Length: 500\r\n'), validBody.slice(0, 30)], 'end');
  addRaw('raw-protocol', 'partial body, then reset', [reqHead('Content-Length: 500\r\n'), validBody.slice(0, 30)], 'destroy');
  addRaw('raw-protocol', 'partial body, then silence', [reqHead('Content-Length: 500\r\n'), validBody.slice(0, 30)], 'keep', 800);
  addRaw('raw-protocol', 'Content-Length shorter than the body', [reqHead('Content-Length: 20\r\n'), validBody], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'Content-Length longer than the body, then half-close', [reqHead(`Content-Length: ${validBody.length + 50}\r\n`), validBody], 'end');
  addRaw('raw-protocol', 'two different Content-Length headers', [reqHead('Content-Length: 5\r\nContent-Length: 6\r\n'), 'hello!'], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('raw-protocol', 'a negative Content-Length', [reqHead('Content-Length: -5\r\n'), 'hello'], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'a Content-Length of 2^64', [reqHead('Content-Length: 18446744073709551616\r\n'), 'hello'], 'keep', 1500, { mustAnswer: true });
  addRaw(
    'raw-protocol',
    'Content-Length and Transfer-Encoding together',
    [reqHead('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), chunked([validBody])],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw('raw-protocol', 'a valid body in 40 chunks', [reqHead('Transfer-Encoding: chunked\r\n'), chunked(validBody.match(/.{1,2}/g)!)], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw(
    'raw-protocol',
    'chunks with extensions and trailers',
    [reqHead('Transfer-Encoding: chunked\r\n'), `${validBody.length.toString(16)};ext="1"\r\n${validBody}\r\n0\r\nX-Trailer: 1\r\n\r\n`],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw('raw-protocol', 'an invalid chunk size', [reqHead('Transfer-Encoding: chunked\r\n'), 'zz\r\nhello\r\n0\r\n\r\n'], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'a chunk longer than announced', [reqHead('Transfer-Encoding: chunked\r\n'), '2\r\nhello\r\n0\r\n\r\n'], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('raw-protocol', 'a chunk size of 2^64', [reqHead('Transfer-Encoding: chunked\r\n'), 'ffffffffffffffffff\r\nhello\r\n'], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('raw-protocol', 'chunks that never end, then half-close', [reqHead('Transfer-Encoding: chunked\r\n'), '5\r\nhello\r\n'], 'end');
  addRaw('raw-protocol', 'chunks that never end, then reset', [reqHead('Transfer-Encoding: chunked\r\n'), '5\r\nhello\r\n'], 'destroy');
  addRaw('raw-protocol', 'Transfer-Encoding: gzip, chunked', [reqHead('Transfer-Encoding: gzip, chunked\r\n'), chunked(['hello'])], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('raw-protocol', 'Transfer-Encoding: chunked, gzip', [reqHead('Transfer-Encoding: chunked, gzip\r\n'), chunked(['hello'])], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('raw-protocol', 'Transfer-Encoding: bogus', [reqHead('Transfer-Encoding: bogus\r\n'), 'hello'], 'keep', 1500, { mustAnswer: true });
  addRaw(
    'raw-protocol',
    'Transfer-Encoding twice',
    [reqHead('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), chunked([validBody])],
    'keep',
    1500,
  );
  addRaw('raw-protocol', 'Transfer-Encoding with a space before the colon', [reqHead('Transfer-Encoding : chunked\r\n'), chunked([validBody])], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw(
    'raw-protocol',
    '11 MB of chunks',
    [reqHead('Transfer-Encoding: chunked\r\n'), ...Array.from({ length: 11 }, () => `100000\r\n${'a'.repeat(0x100000)}\r\n`), '0\r\n\r\n'],
    'keep',
    3000,
    { mustAnswer: true },
  );
  addRaw(
    'raw-protocol',
    'two pipelined requests',
    [`${reqHead(`Content-Length: ${validBody.length}\r\n`)}${validBody}${reqHead(`Content-Length: ${validBody.length}\r\n`)}${validBody}`],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw(
    'raw-protocol',
    'HTTP/1.0 without Host',
    [`POST ${CHAT} HTTP/1.0\r\nAuthorization: Bearer ${o.key}\r\nContent-Type: application/json\r\nContent-Length: ${validBody.length}\r\n\r\n${validBody}`],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw(
    'raw-protocol',
    'HTTP/1.1 without Host',
    [`POST ${CHAT} HTTP/1.1\r\nAuthorization: Bearer ${o.key}\r\nContent-Type: application/json\r\nContent-Length: ${validBody.length}\r\n\r\n${validBody}`],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw('raw-protocol', 'HTTP/2.0 in the request line', [`GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n`], 'keep', 1500);
  addRaw('raw-protocol', 'HTTP/0.9 request line', ['GET /v1/health\r\n\r\n'], 'keep', 1500);
  addRaw('raw-protocol', 'an unknown method token', [`BREW ${CHAT} HTTP/1.1\r\nHost: x\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'CONNECT', ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'], 'keep', 1500);
  addRaw('raw-protocol', 'binary garbage', [Buffer.from(Array.from({ length: 512 }, () => Math.floor(rand() * 256)))], 'keep', 1500);
  addRaw('raw-protocol', 'a TLS ClientHello', [Buffer.from('16030102000100', 'hex'), Buffer.alloc(300, 7)], 'keep', 1500);
  addRaw('raw-protocol', 'only CRLFs', ['\r\n\r\n\r\n\r\n'], 'keep', 800);
  addRaw('raw-protocol', 'a NUL in the path', [`GET /v1/he\u0000alth HTTP/1.1\r\nHost: x\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'a NUL in a header value', [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'a header line without a colon', [`GET /v1/health HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw('raw-protocol', 'an obs-fold header', [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw(
    'raw-protocol',
    'UTF-8 bytes in X-Request-Id',
    [Buffer.concat([Buffer.from('GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: '), Buffer.from('zażółć-😀'), Buffer.from('\r\n\r\n')])],
    'keep',
    1500,
    { mustAnswer: true },
  );
  // Expect: 100-continue: the body is invited only once the key was accepted and the declared size fits.
  addRaw('raw-protocol', 'Expect: 100-continue', [reqHead(`Expect: 100-continue\r\nContent-Length: ${validBody.length}\r\n`), validBody], 'keep', 1500, {
    mustAnswer: true,
    statuses: [100, 200],
  });
  const expectHead = (auth: string, length: number) =>
    `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;
  addRaw('raw-protocol', 'Expect: 100-continue without a key, the body held back', [expectHead('', validBody.length)], 'keep', 1500, {
    mustAnswer: true,
    statuses: [401],
  });
  addRaw(
    'raw-protocol',
    'Expect: 100-continue with a wrong key, the body held back',
    [expectHead('Authorization: Bearer sk-wrong\r\n', validBody.length)],
    'keep',
    1500,
    { mustAnswer: true, statuses: [401] },
  );
  addRaw(
    'raw-protocol',
    'Expect: 100-continue declaring a body over MAX_BODY_BYTES',
    [expectHead(`Authorization: Bearer ${o.key}\r\n`, o.maxBodyBytes + 1)],
    'keep',
    1500,
    { mustAnswer: true, statuses: [413] },
  );
  addRaw(
    'raw-protocol',
    'Expect: 100-continue with "Bearer  <key>"',
    [expectHead(`Authorization: Bearer  ${o.key}\r\n`, validBody.length), validBody],
    'keep',
    1500,
    { mustAnswer: true, statuses: [100, 200] },
  );
  // Header bytes are latin-1 to both servers: 0xa0 is a no-break space, stripped from the key as Python strips it; as
  // UTF-8 (0xc2 0xa0, what node:http writes for U+00A0 when a body goes in the same write) it starts with 'Â', and is refused.
  const withAuth = (auth: string) =>
    `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${validBody.length}\r\n\r\n${validBody}`;
  addRaw('raw-protocol', 'a no-break space (0xa0) before the key', [Buffer.from(withAuth(`Bearer \u00a0${o.key}`), 'latin1')], 'keep', 1500, {
    mustAnswer: true,
    statuses: [200],
  });
  addRaw('raw-protocol', 'a UTF-8 no-break space (0xc2 0xa0) before the key', [Buffer.from(withAuth(`Bearer \u00a0${o.key}`), 'utf8')], 'keep', 1500, {
    mustAnswer: true,
    statuses: [401],
  });
  addRaw('raw-protocol', 'headers sent byte by byte', [...`GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n`], 'keep', 2500, { gapMs: 5, mustAnswer: true });
  addRaw('raw-protocol', 'headers never finished, then half-close', ['GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: '], 'end');
  addRaw('raw-protocol', 'a request line of 100 KB', [`GET /v1/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`], 'keep', 1500, { mustAnswer: true });
  addRaw('oversized-headers', 'one 20 KB header', [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw('oversized-headers', 'one 100 KB header', [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`], 'keep', 1500, {
    mustAnswer: true,
  });
  addRaw(
    'oversized-headers',
    '2,000 small headers',
    [`GET /v1/health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw(
    'oversized-headers',
    'a 60,000-character bearer token',
    [reqHead(`Authorization: Bearer ${'a'.repeat(60_000)}\r\nContent-Length: ${validBody.length}\r\n`), validBody],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw(
    'oversized-headers',
    'a 64 KB bearer token',
    [reqHead(`Authorization: Bearer ${'t'.repeat(65_536)}\r\nContent-Length: ${validBody.length}\r\n`), validBody],
    'keep',
    1500,
    { mustAnswer: true },
  );
  addRaw(
    'oversized-headers',
    'a 1 MB header, slowly',
    [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: `, ...Array.from({ length: 16 }, () => 'a'.repeat(65_536)), '\r\n\r\n'],
    'keep',
    2000,
    { gapMs: 5, mustAnswer: true },
  );
  addRaw(
    'oversized-headers',
    'a 16 KB cookie on a chat request',
    [reqHead(`Cookie: ${'c=1; '.repeat(3300)}\r\nContent-Length: ${validBody.length}\r\n`), validBody],
    'keep',
    1500,
    { mustAnswer: true },
  );

  return { http, raw };
}
