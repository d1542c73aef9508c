import { ApiError } from '../../common/errors/api-error.js';
import { echoOptions, isRollout } from './echo-options.mapper.js';

const body = (fields: Record<string, unknown>) => ({ model: 'echo', messages: [], ...fields });

function refusal(fields: Record<string, unknown>) {
  try {
    echoOptions(body(fields));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, param: err.param, code: err.code, message: err.message };
  }
  return 'accepted';
}

describe('echoOptions', () => {
  it('reads absent and null fields as one plain echo, seed 0', () => {
    const plain = { n: 1, seed: 0, logprobs: false, topLogprobs: 0, tokensAsIds: false, tokenIds: false };
    expect(echoOptions(body({}))).toEqual(plain);
    expect(echoOptions(body({ n: null, seed: null, logprobs: null, top_logprobs: null, return_tokens_as_token_ids: null, return_token_ids: null }))).toEqual(
      plain,
    );
    expect(isRollout(plain)).toBe(false);
    expect(isRollout({ ...plain, seed: 9, tokensAsIds: true })).toBe(false);
  });

  it('takes every value inside the bounds', () => {
    expect(echoOptions(body({ n: 16, seed: -(2 ** 63), logprobs: true, top_logprobs: 20, return_tokens_as_token_ids: true, return_token_ids: true }))).toEqual({
      n: 16,
      seed: -(2 ** 63),
      logprobs: true,
      topLogprobs: 20,
      tokensAsIds: true,
      tokenIds: true,
    });
    expect(echoOptions(body({ n: 2.0, seed: 2 ** 62, logprobs: true, top_logprobs: 0 }))).toMatchObject({ n: 2, seed: 2 ** 62, topLogprobs: 0 });
    expect(isRollout(echoOptions(body({ n: 2 })))).toBe(true);
    expect(isRollout(echoOptions(body({ logprobs: true })))).toBe(true);
    expect(isRollout(echoOptions(body({ return_token_ids: true })))).toBe(true);
  });

  it('reads a number JSON.parse makes infinite (1e400) as above the maximum', () => {
    expect(refusal(JSON.parse('{"n":1e400}'))).toMatchObject({ param: 'n', code: 'integer_above_max_value' });
    expect(refusal(JSON.parse('{"seed":-1e400}'))).toMatchObject({ param: 'seed', code: 'integer_below_min_value' });
  });

  it.each([
    [{ n: 17 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 16, but got 17 instead."],
    [{ n: 1_000_000 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 16, but got 1000000 instead."],
    [{ n: 1e300 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 16, but got 1e+300 instead."],
    [{ n: 0 }, 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    [{ n: -1500 }, 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got -1500 instead."],
    [{ n: 1.5 }, 'n', 'invalid_type', "Invalid type for 'n': expected an integer, but got a decimal number instead."],
    [{ n: '2' }, 'n', 'invalid_type', "Invalid type for 'n': expected an integer, but got a string instead."],
    [
      { logprobs: true, top_logprobs: 21 },
      'top_logprobs',
      'integer_above_max_value',
      "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.",
    ],
    [
      { logprobs: true, top_logprobs: -1 },
      'top_logprobs',
      'integer_below_min_value',
      "Invalid 'top_logprobs': integer below minimum value. Expected a value >= 0, but got -1 instead.",
    ],
    [{ top_logprobs: 2 }, 'top_logprobs', 'invalid_value', "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."],
    [
      { logprobs: false, top_logprobs: 1 },
      'top_logprobs',
      'invalid_value',
      "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
    ],
    [{ logprobs: 'true' }, 'logprobs', 'invalid_type', "Invalid type for 'logprobs': expected a boolean, but got a string instead."],
    [{ return_token_ids: 1 }, 'return_token_ids', 'invalid_type', "Invalid type for 'return_token_ids': expected a boolean, but got a decimal number instead."],
    [
      { return_tokens_as_token_ids: {} },
      'return_tokens_as_token_ids',
      'invalid_type',
      "Invalid type for 'return_tokens_as_token_ids': expected a boolean, but got an object instead.",
    ],
    [{ seed: [1] }, 'seed', 'invalid_type', "Invalid type for 'seed': expected an integer, but got an array instead."],
    [
      { seed: 2 ** 63 },
      'seed',
      'integer_above_max_value',
      "Invalid 'seed': integer above maximum value. Expected a value <= 9223372036854775807, but got 9223372036854776000 instead.",
    ],
    [
      { seed: -(2 ** 64) },
      'seed',
      'integer_below_min_value',
      "Invalid 'seed': integer below minimum value. Expected a value >= -9223372036854775808, but got -18446744073709552000 instead.",
    ],
  ])('refuses %j: 400 with param %s, code %s', (fields, param, code, message) => {
    expect(refusal(fields)).toEqual({ status: 400, param, code, message });
  });
});
