import { NotFoundException } from '@nestjs/common';
import { AuthenticationError, UnknownModelError, UpstreamError, UpstreamTimeoutError } from './api-error.js';
import { toErrorResponse } from './error-mapper.js';
import { RequestValidationError } from './validation-error.js';

describe('toErrorResponse', () => {
  it('answers validation errors as FastAPI 422 bodies', () => {
    const issue = { type: 'missing', loc: ['body', 'model'], msg: 'Field required', input: {} };
    expect(toErrorResponse(new RequestValidationError([issue]))).toEqual({
      status: 422,
      headers: {},
      body: { detail: [issue], error: { message: 'body.model: Field required', type: 'invalid_request_error', param: 'model', code: 'missing' } },
    });
  });

  it('names the first problem of a 422 where OpenAI clients read it, and counts the others', () => {
    const issues = [
      { type: 'string_type', loc: ['body', 'messages', 0, 'content', 2, 'text'], msg: 'Input should be a valid string', input: 5 },
      { type: 'missing', loc: ['body', 'model'], msg: 'Field required', input: {} },
      { type: 'missing', loc: ['body', 'x'], msg: 'Field required', input: {} },
    ];
    const { body } = toErrorResponse(new RequestValidationError(issues));
    expect(body.detail).toBe(issues);
    expect(body.error).toEqual({
      message: 'body.messages.0.content.2.text: Input should be a valid string (and 2 more problems)',
      type: 'invalid_request_error',
      param: 'messages[0].content[2].text',
      code: 'string_type',
    });
    const json = toErrorResponse(
      new RequestValidationError([{ type: 'json_invalid', loc: ['body', 12], msg: 'JSON decode error', input: {}, ctx: { error: "Expecting ',' delimiter" } }]),
    );
    expect(json.body.error).toEqual({
      message: "body: JSON decode error at character 12: Expecting ',' delimiter",
      type: 'invalid_request_error',
      param: null,
      code: 'json_invalid',
    });
  });

  it('gives every other error both detail and an OpenAI error object', () => {
    const r = toErrorResponse(new UnknownModelError('gpt-x'));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      detail: expect.stringContaining("'gpt-x'"),
      error: { message: r.body.detail, type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
  });

  it('asks for a bearer key on 401', () => {
    expect(toErrorResponse(new AuthenticationError()).headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('passes an upstream 4xx body through, adding detail', () => {
    const upstream = { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } };
    const r = toErrorResponse(new UpstreamError({ provider: 'vllm', status: 400, message: 'bad temperature', retryable: false, body: upstream }));
    expect(r).toEqual({ status: 400, headers: {}, body: { detail: 'bad temperature', ...upstream } });
  });

  it('makes an upstream 4xx body readable by OpenAI clients: a flat body gets an error object, codes become strings', () => {
    const flat = { object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 };
    const r = toErrorResponse(new UpstreamError({ provider: 'vllm', status: 404, message: flat.message, retryable: false, body: flat }));
    expect(r.body).toEqual({ detail: flat.message, ...flat, error: { message: flat.message, type: 'NotFoundError', param: null, code: '404' } });
    const llama = { error: { code: 400, message: 'the request exceeds the available context size', type: 'exceed_context_size_error', n_ctx: 4096 } };
    const l = toErrorResponse(new UpstreamError({ provider: 'llama', status: 400, message: llama.error.message, retryable: false, body: llama }));
    expect(l.body.error).toEqual({ message: llama.error.message, type: 'exceed_context_size_error', param: null, code: '400' });
  });

  it('maps timeouts to 504 and Nest exceptions to their status', () => {
    expect(toErrorResponse(new UpstreamTimeoutError('vllm', 10)).status).toBe(504);
    expect(toErrorResponse(new NotFoundException('Cannot GET /x')).body.error).toMatchObject({ message: 'Cannot GET /x' });
  });

  it('never reveals the internals of an unexpected error', () => {
    const r = toErrorResponse(new Error('secret sk-123 in a stack'));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('sk-123');
  });
});
