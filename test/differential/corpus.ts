/**
 * The differential corpus: requests sent byte for byte to the FastAPI reference and to the service.
 * Deterministic: hand-picked cases, cases generated from fixed lists, and mutations drawn from a seeded
 * generator, so every run sends the same bytes and a case id always names the same request.
 */

/** The key both servers accept (the service as API_KEYS, the reference as ORACLE_API_KEY). */
export const KEY = 'sk-differential-0123456789';
export const PATH = '/v1/chat/completions';

export interface DiffCase {
  /** Unique and stable: `<group>/<name>`. */
  id: string;
  group: string;
  method: string;
  target: string;
  /** `undefined`: `application/json`; `null`: no Content-Type header at all. */
  contentType?: string | null;
  /** `undefined`: `Bearer <KEY>`; `null`: no Authorization header at all. */
  authorization?: string | null;
  /** More header lines, sent after the others. */
  extraHeaders?: [string, string][];
  body: Buffer;
  /** Chunked transfer encoding in pieces of these byte lengths instead of Content-Length. */
  chunks?: number[];
}

type CaseInput = Omit<DiffCase, 'id' | 'group' | 'method' | 'target'> & { method?: string; target?: string };

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const json = (value: unknown) => utf8(JSON.stringify(value));

const HELLO = { role: 'user', content: 'Hello there world' };
const VALID = { model: 'echo', messages: [HELLO] };
const VALID_TEXT = JSON.stringify(VALID);

/** One value of every JSON type (and a few shapes of each), written as JSON text. */
const JSON_VALUES: Record<string, string> = {
  null: 'null',
  true: 'true',
  false: 'false',
  zero: '0',
  negative: '-1',
  float: '1.5',
  exponent: '1e3',
  empty_string: '""',
  string: '"x"',
  numeric_string: '"123"',
  empty_array: '[]',
  array: '[1,"a"]',
  empty_object: '{}',
  object: '{"a":1}',
};

function valid(): [string, CaseInput][] {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'an answer' },
    { role: 'user', content: 'second question' },
  ];
  const extras = {
    temperature: 0.7,
    top_p: 1,
    max_tokens: 50,
    n: 1,
    stop: ['\n\n'],
    seed: 42,
    user: 'u-1',
    logprobs: false,
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
    tool_choice: 'auto',
    response_format: { type: 'json_object' },
    metadata: { a: { b: [1, 2, { c: null }] } },
  };
  return [
    ['minimal', { body: json(VALID) }],
    ['conversation', { body: json({ model: 'echo', messages }) }],
    [
      'content_parts',
      {
        body: json({
          model: 'echo',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'part one' },
                { type: 'text', text: ' two' },
              ],
            },
          ],
        }),
      },
    ],
    ['unicode', { body: json({ model: 'echo', messages: [{ role: 'user', content: 'héllo 日本語 😀 𝄞' }] }) }],
    ['escapes', { body: utf8('{"model":"echo","messages":[{"role":"user","content":"a\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/ b"}]}') }],
    ['no_messages', { body: json({ model: 'echo', messages: [] }) }],
    ['empty_message', { body: json({ model: 'echo', messages: [{}] }) }],
    ['null_content', { body: json({ model: 'echo', messages: [{ role: 'user', content: null }] }) }],
    ['no_user', { body: json({ model: 'echo', messages: [{ role: 'system', content: 'only system' }] }) }],
    ['extras', { body: json({ ...VALID, ...extras }) }],
    ['extra_message_fields', { body: json({ model: 'echo', messages: [{ role: 'user', content: 'x', name: 'n', tool_calls: [], weird: { deep: [1] } }] }) }],
    ['whitespace_around', { body: utf8(` \n\t\r${VALID_TEXT}\r\n \t`) }],
    ['pretty', { body: utf8(JSON.stringify(VALID, null, 2)) }],
    ['duplicate_model_key', { body: utf8('{"model":5,"model":"echo","messages":[]}') }],
    ['duplicate_messages_key', { body: utf8('{"model":"echo","messages":"x","messages":[{"role":"user","content":"last wins"}]}') }],
    ['key_order', { body: utf8('{"messages":[{"content":"c","role":"user"}],"model":"echo"}') }],
    ['unicode_keys', { body: json({ ...VALID, ключ: 'значение', '😀': ['😀'] }) }],
    ['escaped_key_names', { body: utf8('{"\\u006dodel":"echo","messag\\u0065s":[]}') }],
    ['escaped_model_value', { body: utf8('{"model":"\\u0065cho","messages":[]}') }],
    ['stream_false', { body: json({ ...VALID, stream: false }) }],
    ['stream_null', { body: json({ ...VALID, stream: null }) }],
    ['stream_true', { body: json({ ...VALID, stream: true }) }],
    ['stream_options_alone', { body: json({ ...VALID, stream_options: { include_usage: true } }) }],
    ['max_tokens_cut', { body: json({ ...VALID, max_tokens: 1 }) }],
    ['long_content', { body: json({ model: 'echo', messages: [{ role: 'user', content: 'word '.repeat(40_000) }] }) }],
    [
      'many_messages',
      { body: json({ model: 'echo', messages: Array.from({ length: 500 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` })) }) },
    ],
    ['unknown_model', { body: json({ model: 'gpt-4o', messages: [HELLO] }) }],
    ['empty_model', { body: json({ model: '', messages: [HELLO] }) }],
    ['over_max_body_bytes', { body: json({ ...VALID, pad: 'x'.repeat(10 * 1024 * 1024 + 100) }) }],
  ];
}

function wrongTypes(): [string, CaseInput][] {
  const out: [string, CaseInput][] = [];
  for (const [name, value] of Object.entries(JSON_VALUES)) {
    if (!name.includes('string')) out.push([`model_${name}`, { body: utf8(`{"model":${value},"messages":[]}`) }]);
    if (!name.includes('array')) out.push([`messages_${name}`, { body: utf8(`{"model":"echo","messages":${value}}`) }]);
    if (!name.includes('object')) {
      out.push([`message0_${name}`, { body: utf8(`{"model":"echo","messages":[${value}]}`) }]);
      out.push([`message1_${name}`, { body: utf8(`{"model":"echo","messages":[{"role":"user","content":"a"},${value}]}`) }]);
      out.push([`root_${name}`, { body: utf8(value) }]);
      out.push([`stream_options_${name}`, { body: utf8(`{"model":"echo","messages":[],"stream_options":${value}}`) }]);
    }
    if (!['null', 'true', 'false'].includes(name)) out.push([`stream_${name}`, { body: utf8(`{"model":"echo","messages":[],"stream":${value}}`) }]);
  }
  out.push(
    ['model_and_messages', { body: utf8('{"model":1,"messages":{}}') }],
    ['messages_before_model', { body: utf8('{"messages":{},"model":1}') }],
    ['model_and_two_messages', { body: utf8('{"model":[],"messages":[1,{},"x",null,[]]}') }],
    ['model_string_stream', { body: utf8('{"model":"echo","messages":[],"stream":"yes"}') }],
    ['root_array_of_valid', { body: utf8(`[${VALID_TEXT}]`) }],
    ['root_string_json', { body: json(VALID_TEXT) }],
    ['messages_99_bad', { body: utf8(`{"model":"echo","messages":[${Array(99).fill('1').join(',')}]}`) }],
    ['messages_100_bad', { body: utf8(`{"model":"echo","messages":[${Array(100).fill('1').join(',')}]}`) }],
    ['messages_101_bad', { body: utf8(`{"model":"echo","messages":[${Array(101).fill('1').join(',')}]}`) }],
    ['messages_150_bad_and_model', { body: utf8(`{"model":null,"messages":[${Array(150).fill('"x"').join(',')}]}`) }],
  );
  return out;
}

function missing(): [string, CaseInput][] {
  return [
    ['empty_object', { body: utf8('{}') }],
    ['only_model', { body: utf8('{"model":"echo"}') }],
    ['only_messages', { body: utf8('{"messages":[]}') }],
    ['only_extras', { body: utf8('{"temperature":1,"stream":true}') }],
    ['wrong_case_keys', { body: utf8('{"Model":"echo","MESSAGES":[]}') }],
    ['model_missing_messages_wrong', { body: utf8('{"messages":"x"}') }],
    ['messages_missing_model_wrong', { body: utf8('{"model":false}') }],
    ['keys_with_spaces', { body: utf8('{"model ":"echo"," messages":[]}') }],
    ['empty_body', { body: Buffer.alloc(0) }],
    ['empty_body_no_content_type', { body: Buffer.alloc(0), contentType: null }],
    ['whitespace_body', { body: utf8('  \n ') }],
    ['null_body', { body: utf8('null') }],
  ];
}

/** Every prefix of a body, cut between characters (code points), never inside one. */
function cutsAtCharacters(name: string, text: string): [string, CaseInput][] {
  const chars = [...text];
  return chars.map((_, i) => [`${name}_${String(i).padStart(3, '0')}`, { body: utf8(chars.slice(0, i).join('')) }]);
}

/** Every prefix that ends inside a multi-byte UTF-8 sequence (each is invalid UTF-8). */
function cutsInsideCharacters(name: string, text: string): [string, CaseInput][] {
  const out: [string, CaseInput][] = [];
  const bytes = utf8(text);
  let at = 0;
  for (const ch of text) {
    const size = utf8(ch).length;
    for (let k = 1; k < size; k++) out.push([`${name}_byte${String(at + k).padStart(3, '0')}`, { body: bytes.subarray(0, at + k) }]);
    at += size;
  }
  return out;
}

const CUT_ASCII = '{"model":"echo","messages":[{"role":"user","content":"hi"}],"n":-1.5e+3,"ok":true,"x":null,"f":false}';
const CUT_MULTIBYTE = '{"model":"echo","messages":[{"role":"user","content":"héllo 日本 😀𝄞!"}]}';
const CUT_ESCAPES = '{"model":"echo","messages":[{"content":"a\\u00e9\\ud83d\\ude00\\n\\"b\\\\"}]}';
const CUT_ASTRAL_FIRST = '{"😀":"𝄞","model":"日本😀","messages":[[]]}';

function truncations(): [string, CaseInput][] {
  return [
    ...cutsAtCharacters('ascii', CUT_ASCII),
    ...cutsAtCharacters('multibyte', CUT_MULTIBYTE),
    ...cutsInsideCharacters('multibyte', CUT_MULTIBYTE),
    ...cutsAtCharacters('escapes', CUT_ESCAPES),
    ...cutsAtCharacters('astral_first', CUT_ASTRAL_FIRST),
  ];
}

/** Invalid JSON of every kind Python's json module names, and JavaScript extensions it refuses. */
function syntax(): [string, CaseInput][] {
  const bad: Record<string, string> = {
    trailing_comma_object: '{"model":"echo","messages":[],}',
    trailing_comma_array: '{"model":"echo","messages":[{},]}',
    trailing_comma_nested: '{"model":"echo","messages":[{"role":"user",}]}',
    trailing_comma_space: '{"model":"echo","messages":[] , }',
    double_comma: '{"model":"echo",,"messages":[]}',
    leading_comma_array: '{"model":"echo","messages":[,{}]}',
    empty_array_comma: '[,]',
    empty_object_comma: '{,}',
    lone_backslash_end: '{"model":"echo\\',
    lone_backslash_end_late: '{"model":"echo","messages":[{"content":"abc\\',
    backslash_quote_end: '{"model":"echo\\"',
    u_escape_cut_0: '{"model":"echo\\u',
    u_escape_cut_2: '{"model":"echo\\u00',
    u_escape_cut_3_quote: '{"model":"\\u00e"}',
    u_escape_bad_hex: '{"model":"\\u00zz","messages":[]}',
    invalid_escape_x: '{"model":"\\x41","messages":[]}',
    invalid_escape_a: '{"model":"echo","messages":[{"content":"\\a"}]}',
    escaped_lone_high_surrogate: '{"model":"\\ud83d","messages":[]}',
    escaped_lone_low_surrogate: '{"model":"echo","messages":[],"x":"\\ude00"}',
    escaped_reversed_surrogates: '{"model":"\\ude00\\ud83d","messages":[]}',
    raw_newline_in_string: '{"model":"ec\nho","messages":[]}',
    raw_tab_in_string: '{"model":"echo","messages":[{"content":"a\tb"}]}',
    raw_nul_in_string: '{"model":"echo\u0000","messages":[]}',
    raw_unit_separator_in_string: '{"model":"echo","messages":[],"x":"\u001f"}',
    raw_del_in_string: '{"model":"echo\u007f","messages":[]}',
    raw_c1_in_string: '{"model":"echo\u0085","messages":[]}',
    raw_line_separator_in_string: '{"model":"echo\u2028","messages":[]}',
    leading_zero: '{"model":"echo","messages":[],"n":01}',
    negative_leading_zero: '{"model":"echo","messages":[],"n":-01}',
    leading_zero_model: '{"model":00,"messages":[]}',
    trailing_dot: '{"model":"echo","messages":[],"n":1.}',
    leading_dot: '{"model":"echo","messages":[],"n":.5}',
    plus_sign: '{"model":"echo","messages":[],"n":+1}',
    exponent_cut: '{"model":"echo","messages":[],"n":1e}',
    exponent_sign_cut: '{"model":"echo","messages":[],"n":1e+}',
    minus_alone: '{"model":"echo","messages":[],"n":-}',
    minus_space: '{"model":"echo","messages":[],"n":- 1}',
    hex_number: '{"model":"echo","messages":[],"n":0x1F}',
    nan: '{"model":"echo","messages":[],"n":NaN}',
    infinity: '{"model":"echo","messages":[],"n":Infinity}',
    minus_infinity: '{"model":"echo","messages":[],"n":-Infinity}',
    nan_as_model: '{"model":NaN,"messages":[]}',
    infinity_missing_model: '{"messages":[],"n":Infinity}',
    nan_root: 'NaN',
    nan_lowercase: '{"model":"echo","messages":[],"n":nan}',
    line_comment: '{"model":"echo", // the model\n"messages":[]}',
    block_comment: '{"model":"echo",/* c */"messages":[]}',
    comment_only: '// nothing',
    single_quotes: "{'model':'echo','messages':[]}",
    unquoted_keys: '{model:"echo",messages:[]}',
    true_misspelt: '{"model":"echo","messages":[],"x":tru}',
    true_capital: '{"model":"echo","messages":[],"x":True}',
    null_cut: '{"model":"echo","messages":[],"x":nul',
    none_python: '{"model":"echo","messages":[],"x":None}',
    extra_data_object: '{"model":"echo","messages":[]} {}',
    extra_data_letter: '{"model":"echo","messages":[]}x',
    extra_close: '{"model":"echo","messages":[]}}',
    extra_data_after_space: '{"model":"echo","messages":[]}\n\n  ]',
    missing_colon: '{"model" "echo","messages":[]}',
    missing_comma_object: '{"model":"echo" "messages":[]}',
    missing_comma_array: '{"model":"echo","messages":[{} {}]}',
    missing_value: '{"model":,"messages":[]}',
    colon_in_array: '{"model":"echo","messages":[1:2]}',
    unclosed_string: '{"model":"echo,"messages":[]}',
    unclosed_object: '{"model":"echo","messages":[]',
    unclosed_array: '{"model":"echo","messages":[',
    mismatched_brackets: '{"model":"echo","messages":[}]',
    key_not_string: '{1:"echo"}',
    key_null: '{null:1}',
    only_open_brace: '{',
    only_close_brace: '}',
    only_quote: '"',
    only_colon: ':',
    bare_word: 'model',
    nul_byte_outside: '{"model":"echo",\u0000"messages":[]}',
    form_feed_whitespace: '{"model":"echo",\f"messages":[]}',
    vertical_tab_whitespace: '{\u000b"model":"echo","messages":[]}',
    nbsp_whitespace: '{\u00a0"model":"echo","messages":[]}',
    bom_in_middle: '{"model":"echo",\ufeff"messages":[]}',
    astral_then_error: '{"model":"😀😀😀","messages":[}',
    multibyte_then_error: '{"model":"日本語","messages":[1 2]}',
    astral_key_then_error: '{"😀":1,"𝄞":2,}',
    astral_then_backslash_end: '{"model":"😀\\',
    astral_then_u_cut: '{"model":"😀\\u12',
    astral_then_raw_newline: '{"model":"😀\n"}',
    astral_then_trailing_comma: '{"model":"😀","messages":[1,]}',
  };
  return Object.entries(bad).map(([name, text]) => [name, { body: utf8(text) }]);
}

function encodings(): [string, CaseInput][] {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : Buffer.from(p))));
  const utf16le = (text: string) => Buffer.from(text, 'utf16le');
  const utf16be = (text: string) => {
    const b = Buffer.from(text, 'utf16le');
    return b.swap16();
  };
  const utf32 = (text: string, le: boolean) => {
    const cps = [...text].map((c) => c.codePointAt(0)!);
    const b = Buffer.alloc(cps.length * 4);
    cps.forEach((cp, i) => (le ? b.writeUInt32LE(cp, i * 4) : b.writeUInt32BE(cp, i * 4)));
    return b;
  };
  const missingModel = '{"messages":[],"x":"é"}';
  return [
    ['invalid_continuation_in_value', { body: bytes('{"model":"echo","messages":[{"role":"user","content":"a', [0x80], 'b"}]}') }],
    ['invalid_ff_in_value', { body: bytes('{"model":"echo","messages":[{"role":"user","content":"', [0xff], '"}]}') }],
    ['overlong_slash', { body: bytes('{"model":"echo","messages":[{"role":"user","content":"', [0xc0, 0xaf], '"}]}') }],
    ['truncated_3byte_in_value', { body: bytes('{"model":"echo","messages":[{"role":"user","content":"', [0xe6, 0x97], '"}]}') }],
    ['encoded_surrogate_in_value', { body: bytes('{"model":"echo","messages":[{"role":"user","content":"', [0xed, 0xa0, 0x80], '"}]}') }],
    ['encoded_surrogate_in_model', { body: bytes('{"model":"', [0xed, 0xa0, 0x80], '","messages":[]}') }],
    ['encoded_surrogate_missing_model', { body: bytes('{"messages":[],"x":"', [0xed, 0xb0, 0x80], '"}') }],
    ['five_byte_sequence', { body: bytes('{"model":"echo","messages":[],"x":"', [0xf8, 0x88, 0x80, 0x80, 0x80], '"}') }],
    ['above_max_code_point', { body: bytes('{"model":"echo","messages":[],"x":"', [0xf4, 0x90, 0x80, 0x80], '"}') }],
    ['invalid_in_key', { body: bytes('{"mo', [0xff], 'del":"echo","messages":[]}') }],
    ['invalid_outside_strings', { body: bytes('{"model":"echo",', [0xff], '"messages":[]}') }],
    ['invalid_in_model_value', { body: bytes('{"model":"ech', [0xe9], '","messages":[]}') }],
    ['invalid_in_invalid_json', { body: bytes('{"model":"', [0xff], '",}') }],
    ['invalid_latin1_body', { body: Buffer.from('{"model":"echo","messages":[{"role":"user","content":"café"}]}', 'latin1') }],
    ['invalid_missing_model', { body: bytes('{"messages":[],"x":"', [0xc3], '"}') }],
    ['bom_valid', { body: bytes([0xef, 0xbb, 0xbf], VALID_TEXT) }],
    ['bom_missing_model', { body: bytes([0xef, 0xbb, 0xbf], missingModel) }],
    ['bom_invalid_json', { body: bytes([0xef, 0xbb, 0xbf], '{"model":"echo",}') }],
    ['bom_only', { body: Buffer.from([0xef, 0xbb, 0xbf]) }],
    ['double_bom', { body: bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], VALID_TEXT) }],
    ['bom_then_space', { body: bytes([0xef, 0xbb, 0xbf], ' ', VALID_TEXT) }],
    ['space_then_bom', { body: bytes(' ', [0xef, 0xbb, 0xbf], VALID_TEXT) }],
    ['utf16le_bom', { body: Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le(VALID_TEXT)]) }],
    ['utf16be_bom', { body: Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(VALID_TEXT)]) }],
    ['utf16le_no_bom', { body: utf16le(VALID_TEXT) }],
    ['utf16be_no_bom', { body: utf16be(VALID_TEXT) }],
    ['utf16le_missing_model', { body: utf16le(missingModel) }],
    ['utf16le_invalid_json', { body: utf16le('{"model":"echo",}') }],
    ['utf32le_no_bom', { body: utf32(VALID_TEXT, true) }],
    ['utf32be_no_bom', { body: utf32(VALID_TEXT, false) }],
    [
      'utf8_charset_param_latin1',
      { body: utf8(JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'café' }] })), contentType: 'application/json; charset=latin-1' },
    ],
    ['utf16_charset_param_on_utf8', { body: json(VALID), contentType: 'application/json; charset=utf-16' }],
  ];
}

/** Numbers as Python reads and writes them: ints of any size, floats, exponents, -0. */
function numbers(): [string, CaseInput][] {
  const values: Record<string, string> = {
    int_2p53_plus_1: '9007199254740993',
    int_minus_2p53_minus_1: '-9007199254740993',
    int_2p64: '18446744073709551616',
    int_30_digits: '123456789012345678901234567890',
    int_400_digits: '9'.repeat(400),
    int_5000_digits: '1'.repeat(5000),
    minus_zero: '-0',
    minus_zero_float: '-0.0',
    zero_float: '0.0',
    one_float: '1.0',
    one_e5: '1e5',
    one_E_minus_7: '1E-7',
    exp_plus: '2.5e+10',
    one_e21: '1e21',
    float_1e16: '10000000000000000.0',
    int_1e16: '10000000000000000',
    tenth: '0.1',
    many_digits: '3.141592653589793238462643383279',
    min_subnormal: '5e-324',
    below_subnormal: '1e-400',
    max_double: '1.7976931348623157e308',
    overflow_exp: '1e400',
    minus_overflow_exp: '-1e400',
    huge_exponent: '1e99999',
  };
  const out: [string, CaseInput][] = [];
  for (const [name, value] of Object.entries(values)) {
    out.push([`as_model_${name}`, { body: utf8(`{"model":${value},"messages":[]}`) }]);
    out.push([`echoed_${name}`, { body: utf8(`{"messages":[],"n":${value}}`) }]);
    out.push([`in_valid_${name}`, { body: utf8(`{"model":"echo","messages":[],"n":${value}}`) }]);
  }
  out.push(
    ['as_message', { body: utf8('{"model":"echo","messages":[9007199254740993, 1.0, -0]}') }],
    ['as_max_tokens', { body: utf8('{"model":"echo","messages":[{"role":"user","content":"a b c"}],"max_tokens":1.0}') }],
    ['max_tokens_big', { body: utf8('{"model":"echo","messages":[{"role":"user","content":"a b c"}],"max_tokens":9007199254740993}') }],
  );
  return out;
}

function nesting(): [string, CaseInput][] {
  const arrays = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const out: [string, CaseInput][] = [];
  for (const depth of [10, 100, 500, 900, 990, 1000, 1100, 3000, 20_000]) {
    out.push([`arrays_in_valid_${depth}`, { body: utf8(`{"model":"echo","messages":[],"x":${arrays(depth)}}`) }]);
    out.push([`objects_in_valid_${depth}`, { body: utf8(`{"model":"echo","messages":[],"x":${objects(depth)}}`) }]);
    out.push([`arrays_as_model_${depth}`, { body: utf8(`{"model":${arrays(depth)},"messages":[]}`) }]);
    out.push([`objects_as_message_${depth}`, { body: utf8(`{"model":"echo","messages":[${objects(depth)}]}`) }]);
    out.push([`arrays_echoed_${depth}`, { body: utf8(`{"messages":[],"x":${arrays(depth)}}`) }]);
  }
  out.push(
    ['arrays_unclosed_1000', { body: utf8('{"model":"echo","messages":[],"x":' + '['.repeat(1000)) }],
    ['arrays_root_2000', { body: utf8(arrays(2000)) }],
    ['arrays_error_at_depth_50', { body: utf8(`{"model":"echo","messages":[],"x":${'['.repeat(50)}1,]${']'.repeat(49)}}`) }],
  );
  return out;
}

function contentTypes(): [string, CaseInput][] {
  const types: Record<string, string | null> = {
    json: 'application/json',
    json_charset: 'application/json; charset=utf-8',
    json_charset_nospace: 'application/json;charset=UTF-8',
    json_upper: 'APPLICATION/JSON',
    json_spaces: '  application/json  ',
    json_quoted_charset: 'application/json; charset="utf-8"',
    json_bad_param: 'application/json; ===',
    plus_json: 'application/vnd.api+json',
    json_patch: 'application/merge-patch+json',
    json_seq: 'application/json-seq',
    text_json: 'text/json',
    text_plain: 'text/plain',
    form: 'application/x-www-form-urlencoded',
    multipart: 'multipart/form-data; boundary=x',
    octet_stream: 'application/octet-stream',
    application_only: 'application',
    json_only: 'json',
    list: 'application/json, text/plain',
    list_reversed: 'text/plain, application/json',
    params_only: '; charset=utf-8',
    slash_only: '/',
    application_slash: 'application/',
    empty: '',
    spaces: '   ',
    missing: null,
  };
  const bodies: Record<string, Buffer> = {
    valid: json(VALID),
    invalid: utf8('{"model":"echo",}'),
    missing_model: utf8('{"messages":[]}'),
    non_object: utf8('[1]'),
    empty: Buffer.alloc(0),
  };
  const out: [string, CaseInput][] = [];
  for (const [t, contentType] of Object.entries(types)) for (const [b, body] of Object.entries(bodies)) out.push([`${t}_${b}`, { body, contentType }]);
  out.push([
    'two_headers_json_text',
    {
      body: json(VALID),
      contentType: null,
      extraHeaders: [
        ['Content-Type', 'application/json'],
        ['Content-Type', 'text/plain'],
      ],
    },
  ]);
  out.push(['invalid_utf8_as_text', { body: Buffer.concat([utf8('{"model":"'), Buffer.from([0xff]), utf8('"}')]), contentType: 'text/plain' }]);
  out.push(['multibyte_as_text', { body: utf8('héllo 😀'), contentType: 'text/plain' }]);
  return out;
}

function auth(): [string, CaseInput][] {
  const schemes: Record<string, string | null> = {
    missing: null,
    empty: '',
    basic: `Basic ${KEY}`,
    token: `Token ${KEY}`,
    bearer_no_token: 'Bearer',
    bearer_space_no_token: 'Bearer ',
    bearer_two_spaces: `Bearer  ${KEY}`,
    bearer_tab: `Bearer\t${KEY}`,
    bearer_trailing_space: `Bearer ${KEY} `,
    bearer_key_and_more: `Bearer ${KEY} extra`,
    lowercase: `bearer ${KEY}`,
    uppercase: `BEARER ${KEY}`,
    wrong_key: 'Bearer sk-wrong',
    key_prefix: `Bearer ${KEY.slice(0, -1)}`,
    key_only: KEY,
  };
  const out: [string, CaseInput][] = [];
  for (const [name, authorization] of Object.entries(schemes)) {
    out.push([`${name}_valid`, { body: json(VALID), authorization }]);
    out.push([`${name}_missing_model`, { body: utf8('{"messages":[]}'), authorization }]);
  }
  for (const name of ['missing', 'wrong_key', 'lowercase', 'bearer_two_spaces']) {
    out.push([`${name}_invalid_json`, { body: utf8('{"model":"echo",}'), authorization: schemes[name] }]);
    out.push([`${name}_empty_body`, { body: Buffer.alloc(0), authorization: schemes[name] }]);
    out.push([
      `${name}_invalid_utf8`,
      { body: Buffer.concat([utf8('{"model":"'), Buffer.from([0xff]), utf8('","messages":[]}')]), authorization: schemes[name] },
    ]);
  }
  out.push([
    'two_headers_wrong_then_right',
    {
      body: json(VALID),
      authorization: null,
      extraHeaders: [
        ['Authorization', 'Bearer sk-wrong'],
        ['Authorization', `Bearer ${KEY}`],
      ],
    },
  ]);
  out.push([
    'two_headers_right_then_wrong',
    {
      body: json(VALID),
      authorization: null,
      extraHeaders: [
        ['Authorization', `Bearer ${KEY}`],
        ['Authorization', 'Bearer sk-wrong'],
      ],
    },
  ]);
  return out;
}

function routing(): [string, CaseInput][] {
  const body = json(VALID);
  return [
    ['trailing_slash', { body, target: `${PATH}/` }],
    ['query_string', { body, target: `${PATH}?x=1` }],
    ['unknown_path', { body, target: '/v1/chat/completion' }],
    ['unknown_path_no_auth', { body, target: '/v1/nothing', authorization: null }],
    ['root', { body: Buffer.alloc(0), method: 'GET', target: '/', contentType: null }],
    ['get', { body: Buffer.alloc(0), method: 'GET', contentType: null }],
    ['put', { body, method: 'PUT' }],
    ['delete_no_auth', { body: Buffer.alloc(0), method: 'DELETE', authorization: null, contentType: null }],
    ['double_slash', { body, target: '/v1//chat/completions' }],
    ['upper_case_path', { body, target: '/V1/chat/completions' }],
  ];
}

function transfer(): [string, CaseInput][] {
  const multibyte = utf8(JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'héllo 😀 日本' }] }));
  const split = multibyte.indexOf(utf8('😀')) + 2;
  return [
    ['chunked_valid', { body: json(VALID), chunks: [10, 10, 10] }],
    ['chunked_split_inside_character', { body: multibyte, chunks: [split] }],
    ['chunked_invalid_json', { body: utf8('{"model":"echo","messages":[],}'), chunks: [5] }],
    ['chunked_empty', { body: Buffer.alloc(0), chunks: [] }],
  ];
}

/** mulberry32: a small seeded generator, so the mutations are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MUTATION_ALPHABET = [...'{}[]",:\\ \n\t0123456789-+.eEtrufalsnNI/\'\u0000\u001fé日😀'];

/** Valid bodies with one to three seeded edits: a character deleted, inserted, replaced or doubled, a slice repeated, a byte replaced. */
function mutations(count: number, seed = 18): [string, CaseInput][] {
  const random = seeded(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const bases = [
    VALID_TEXT,
    JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'héllo 😀' }], temperature: 0.5, stream: false }),
    JSON.stringify({
      model: 'echo',
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: [{ type: 'text', text: 't' }] },
      ],
      n: -12.5e-3,
    }),
  ];
  const out: [string, CaseInput][] = [];
  const seen = new Set<string>();
  while (out.length < count) {
    let body = utf8(pick(bases));
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const chars = [...body.toString('utf8')];
      const at = Math.floor(random() * (chars.length + 1));
      const op = Math.floor(random() * 6);
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, pick(MUTATION_ALPHABET));
      else if (op === 2) chars.splice(at, 1, pick(MUTATION_ALPHABET));
      else if (op === 3) chars.splice(at, 0, chars[at] ?? '');
      else if (op === 4) chars.splice(at, 0, ...chars.slice(at, at + 1 + Math.floor(random() * 8)));
      if (op <= 4) body = utf8(chars.join(''));
      else {
        body = Buffer.from(body);
        body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
      }
    }
    const key = body.toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([String(out.length).padStart(3, '0'), { body }]);
  }
  return out;
}

export function buildCorpus(): DiffCase[] {
  const groups: Record<string, [string, CaseInput][]> = {
    valid: valid(),
    type: wrongTypes(),
    missing: missing(),
    cut: truncations(),
    syntax: syntax(),
    encoding: encodings(),
    number: numbers(),
    nesting: nesting(),
    content_type: contentTypes(),
    auth: auth(),
    route: routing(),
    transfer: transfer(),
    mutation: mutations(150),
  };
  const cases: DiffCase[] = [];
  const ids = new Set<string>();
  for (const [group, entries] of Object.entries(groups)) {
    for (const [name, input] of entries) {
      const id = `${group}/${name}`;
      if (ids.has(id)) throw new Error(`duplicate case id ${id}`);
      ids.add(id);
      cases.push({ method: 'POST', target: PATH, ...input, id, group });
    }
  }
  return cases;
}
