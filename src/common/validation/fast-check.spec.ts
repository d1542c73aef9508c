import { IsInt, IsString, validateSync } from 'class-validator';
import { ChatCompletionRequestDto } from '../../chat-completions/dto/chat-completion-request.dto.js';
import { compileFastCheck } from './fast-check.js';

/** What class-validator says of a body, the way the validation pipe asks it. */
function classValidatorAccepts(body: Record<string, unknown>): boolean {
  const instance = Object.create(ChatCompletionRequestDto.prototype) as Record<string, unknown>;
  for (const field of ['model', 'messages', 'stream', 'stream_options']) if (Object.hasOwn(body, field)) instance[field] = body[field];
  return validateSync(instance, { forbidUnknownValues: false }).length === 0;
}

describe('compileFastCheck', () => {
  const check = compileFastCheck(ChatCompletionRequestDto)!;

  it('agrees with class-validator on every combination of field values', () => {
    const values: unknown[] = [undefined, null, 'm', '', 0, 1.5, true, false, [], [{}], [{ role: 'user' }, null], [[]], ['x'], {}, { include_usage: true }];
    let accepted = 0;
    let checked = 0;
    for (const model of values)
      for (const messages of values)
        for (const stream of values)
          for (const streamOptions of [undefined, null, {}, [], 'x', true]) {
            const body: Record<string, unknown> = {};
            if (model !== undefined) body.model = model;
            if (messages !== undefined) body.messages = messages;
            if (stream !== undefined) body.stream = stream;
            if (streamOptions !== undefined) body.stream_options = streamOptions;
            const expected = classValidatorAccepts(body);
            expect({ body, fast: check(body) }).toEqual({ body, fast: expected });
            if (expected) accepted++;
            checked++;
          }
    // Both outcomes occur, so the agreement means something.
    expect(accepted).toBeGreaterThan(40);
    expect(checked - accepted).toBeGreaterThan(1000);
  });

  it('does not read inherited properties as fields', () => {
    const body = Object.create({ model: 'm', messages: [] }) as Record<string, unknown>;
    expect(check(body)).toBe(false);
  });

  it('gives no fast path to rules it does not know', () => {
    class WithArgs {
      @IsInt()
      n!: number;
    }
    class Known {
      @IsString()
      s!: string;
    }
    expect(compileFastCheck(WithArgs)).toBeNull();
    expect(compileFastCheck(Known)?.({ s: 'x' })).toBe(true);
  });
});
