import { ChatCompletionRequestDto } from '../../chat-completions/dto/chat-completion-request.dto.js';
import { RequestValidationError } from '../errors/validation-error.js';
import { FastApiValidationPipe } from './fastapi-validation.pipe.js';

describe('FastApiValidationPipe', () => {
  const pipe = new FastApiValidationPipe();
  const meta = { type: 'body' as const, metatype: ChatCompletionRequestDto };

  it('returns the very body the client sent, unknown fields and all', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x', name: 'n' }], vendor_field: { a: [1] }, temperature: 'anything' };
    expect(pipe.transform(body, meta)).toBe(body);
    expect(body).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x', name: 'n' }], vendor_field: { a: [1] }, temperature: 'anything' });
  });

  it('throws a RequestValidationError listing every failure in field order', () => {
    try {
      pipe.transform({ model: 1, messages: [null], stream_options: 'x' }, meta);
      throw new Error('expected a validation error');
    } catch (err) {
      expect(err).toBeInstanceOf(RequestValidationError);
      expect((err as RequestValidationError).detail.map((d) => [d.type, d.loc])).toEqual([
        ['string_type', ['body', 'model']],
        ['dict_type', ['body', 'messages', 0]],
        ['dict_type', ['body', 'stream_options']],
      ]);
    }
  });

  it('accepts null for optional fields, as pydantic does', () => {
    expect(() => pipe.transform({ model: 'm', messages: [], stream: null, stream_options: null }, meta)).not.toThrow();
  });
});
