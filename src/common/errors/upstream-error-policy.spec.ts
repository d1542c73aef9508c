import { ApiError, UnknownModelError, UpstreamError, UpstreamTimeoutError } from './api-error.js';
import { ERROR_CODES } from './error-codes.js';
import { toErrorResponse } from './error-mapper.js';
import { afterFailedAttempt, errorKind, finalError, isFallbackWorthy, type AttemptDecision, type UpstreamErrorKind } from './upstream-error-policy.js';

const upstream = (status: number, retryable: boolean, extra: Partial<ConstructorParameters<typeof UpstreamError>[0]> = {}) =>
  new UpstreamError({ provider: 'p', status, message: `upstream said ${status}`, retryable, ...extra });

interface Meaning {
  attempt: AttemptDecision;
  fallback: boolean;
  status: number;
  code: string | null;
  kind: UpstreamErrorKind;
}

const cases: [string, unknown, Meaning][] = [
  ['an upstream 503', upstream(503, true), { attempt: 'retry', fallback: true, status: 502, code: 'upstream_error', kind: '5xx' }],
  ['an upstream 500', upstream(500, true), { attempt: 'retry', fallback: true, status: 502, code: 'upstream_error', kind: '5xx' }],
  ['an upstream 408', upstream(408, true), { attempt: 'retry', fallback: true, status: 502, code: 'upstream_error', kind: '4xx' }],
  [
    'an upstream 429',
    upstream(429, true, { retryAfterMs: 2500 }),
    { attempt: 'retry', fallback: true, status: 429, code: 'upstream_rate_limited', kind: 'rate_limited' },
  ],
  [
    'an upstream 400 with its body',
    upstream(400, false, { body: { error: { message: 'bad', type: 'invalid_request_error', param: 'temperature', code: 'bad_temp' } } }),
    { attempt: 'stop', fallback: false, status: 400, code: 'bad_temp', kind: '4xx' },
  ],
  ['an upstream 404', upstream(404, false), { attempt: 'stop', fallback: false, status: 404, code: 'upstream_error', kind: '4xx' }],
  [
    "the upstream refusing the service's key",
    upstream(502, false, { code: ERROR_CODES.upstreamAuthFailed }),
    { attempt: 'stop', fallback: true, status: 502, code: 'upstream_auth_failed', kind: '5xx' },
  ],
  [
    'an unreachable upstream',
    upstream(502, true, { code: ERROR_CODES.upstreamUnavailable }),
    { attempt: 'retry', fallback: true, status: 502, code: 'upstream_unavailable', kind: 'connect' },
  ],
  [
    'an unreadable reply',
    upstream(502, false, { code: ERROR_CODES.upstreamInvalidReply }),
    { attempt: 'stop', fallback: true, status: 502, code: 'upstream_invalid_reply', kind: 'invalid_reply' },
  ],
  [
    'an adapter load past its deadline',
    upstream(504, false, { code: ERROR_CODES.upstreamTimeout }),
    { attempt: 'stop', fallback: true, status: 504, code: 'upstream_timeout', kind: 'timeout' },
  ],
  [
    'a checkpoint the upstream does not serve',
    upstream(502, false, { code: ERROR_CODES.adapterUnavailable }),
    { attempt: 'stop', fallback: true, status: 502, code: 'adapter_unavailable', kind: '5xx' },
  ],
  [
    'a reply past its deadline',
    new UpstreamTimeoutError('p', 1000),
    { attempt: 'stop', fallback: true, status: 504, code: 'upstream_timeout', kind: 'timeout' },
  ],
  [
    'no adapter slot left',
    new ApiError({ status: 503, message: 'full', code: ERROR_CODES.adapterCapacity }),
    { attempt: 'other_target', fallback: true, status: 503, code: 'adapter_capacity', kind: '5xx' },
  ],
  ["the client's own mistake", new UnknownModelError('m'), { attempt: 'stop', fallback: false, status: 404, code: 'model_not_found', kind: '4xx' }],
  ['a bug', new Error('boom'), { attempt: 'stop', fallback: true, status: 500, code: 'internal_error', kind: 'other' }],
];

describe('upstream error policy', () => {
  it.each(cases)('%s', (_name, err, meaning) => {
    const final = toErrorResponse(finalError(err));
    const code = (final.body.error as { code: string | null }).code;
    expect({ attempt: afterFailedAttempt(err), fallback: isFallbackWorthy(err), status: final.status, code, kind: errorKind(err) }).toEqual(meaning);
  });

  it("keeps an upstream 429's Retry-After, rounded up to whole seconds", () => {
    expect(toErrorResponse(finalError(upstream(429, true, { retryAfterMs: 2500 }))).headers).toEqual({ 'retry-after': '3' });
    expect(toErrorResponse(finalError(upstream(429, true))).headers).toEqual({});
  });

  it('says it gave up when retries ran out', () => {
    expect((finalError(upstream(503, true)) as ApiError).message).toBe('upstream said 503 (gave up after retries)');
  });
});

describe('the error code vocabulary', () => {
  it('is the only source of codes: one outside it does not compile', () => {
    // @ts-expect-error 'upstream_oops' is not in ERROR_CODES
    const err = new UpstreamError({ provider: 'p', status: 502, message: 'x', retryable: false, code: 'upstream_oops' });
    expect(Object.values(ERROR_CODES)).not.toContain(err.code);
    expect(new Set(Object.values(ERROR_CODES)).size).toBe(Object.keys(ERROR_CODES).length);
  });
});
