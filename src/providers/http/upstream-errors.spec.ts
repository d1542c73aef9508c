import { errors as undiciErrors } from 'undici';
import { UpstreamError } from '../../common/errors/api-error.js';
import { toErrorResponse } from '../../common/errors/error-mapper.js';
import { errorKind, finalError, isFallbackWorthy } from '../../common/errors/upstream-error-policy.js';
import { DeadlineExceeded, fromTransportError, upstreamErrorFromResponse } from './upstream-errors.js';

const live = new AbortController().signal;
const answer = (status: number, text = '', headers: Record<string, string> = {}) =>
  upstreamErrorFromResponse('vllm', status, headers, text, ['sk-secret-key-123']);
/** What the client ends up with once the router gave up on this error, and how it was counted. */
const outcome = (err: unknown) => {
  const r = toErrorResponse(finalError(err));
  return { status: r.status, code: (r.body.error as { code: string | null }).code, fallback: isFallbackWorthy(err), kind: errorKind(err) };
};

describe('upstream failures, from the wire to what the client gets', () => {
  it.each([
    ['a 503', answer(503, '{"error":{"message":"busy"}}'), { status: 502, code: 'upstream_error', fallback: true, kind: '5xx' }],
    [
      'a 429',
      answer(429, '{"error":{"message":"slow down"}}', { 'retry-after': '2' }),
      { status: 429, code: 'upstream_rate_limited', fallback: true, kind: 'rate_limited' },
    ],
    ['a 400', answer(400, '{"error":{"message":"bad","code":"bad_temp"}}'), { status: 400, code: 'bad_temp', fallback: false, kind: '4xx' }],
    ['a 400 that is not JSON', answer(400, 'nope'), { status: 400, code: null, fallback: false, kind: '4xx' }],
    ['a 401 (our key)', answer(401, 'sk-secret-key-123 is invalid'), { status: 502, code: 'upstream_auth_failed', fallback: true, kind: '5xx' }],
    ['a 403 (our key)', answer(403), { status: 502, code: 'upstream_auth_failed', fallback: true, kind: '5xx' }],
    [
      'a refused connection',
      fromTransportError('vllm', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), live, 1000),
      { status: 502, code: 'upstream_unavailable', fallback: true, kind: 'connect' },
    ],
    [
      'a reset connection',
      fromTransportError('vllm', Object.assign(new Error('x'), { code: 'ECONNRESET' }), live, 1000),
      { status: 502, code: 'upstream_unavailable', fallback: true, kind: 'connect' },
    ],
    [
      'headers past their deadline',
      fromTransportError('vllm', new undiciErrors.HeadersTimeoutError(), live, 1000),
      { status: 504, code: 'upstream_timeout', fallback: true, kind: 'timeout' },
    ],
    [
      'a whole reply past its deadline',
      fromTransportError('vllm', new DeadlineExceeded(), live, 1000),
      { status: 504, code: 'upstream_timeout', fallback: true, kind: 'timeout' },
    ],
  ])('%s', (_name, err, expected) => {
    expect(outcome(err)).toEqual(expected);
  });

  it('retries what is worth retrying, honouring Retry-After', () => {
    expect(answer(503)).toMatchObject({ retryable: true, provider: 'vllm' });
    expect(answer(408)).toMatchObject({ retryable: true });
    expect(answer(429, '', { 'retry-after': '2' })).toMatchObject({ retryable: true, retryAfterMs: 2000 });
    expect(answer(400)).toMatchObject({ retryable: false });
    expect(answer(401)).toMatchObject({ retryable: false, status: 502 });
  });

  it("cuts the service's own key out of what the client sees", () => {
    const err = answer(400, '{"error":{"message":"key sk-secret-key-123 rejected"}}');
    expect(JSON.stringify(toErrorResponse(err).body)).not.toContain('sk-secret-key-123');
  });

  it('leaves a client abort as it was: nobody is left to answer', () => {
    const c = new AbortController();
    c.abort();
    const err = new Error('aborted');
    expect(fromTransportError('vllm', err, c.signal, 1000)).toBe(err);
    expect(fromTransportError('vllm', err, c.signal, 1000)).not.toBeInstanceOf(UpstreamError);
  });
});
