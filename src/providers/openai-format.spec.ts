import { includesUsage, messageText } from './openai-format.js';

describe('messageText', () => {
  const image = { type: 'image_url', image_url: { url: 'x' } };
  const parts = [{ type: 'text', text: 'hello' }, image, { type: 'text', text: 'world' }, 'stray', { type: 'text', text: 7 }];

  it('takes a string as it is and anything but a list of parts as no text', () => {
    expect(messageText('  as sent\n', ' ')).toBe('  as sent\n');
    expect(messageText(undefined, ' ')).toBe('');
    expect(messageText({ type: 'text', text: 'not a list' }, ' ')).toBe('');
  });

  it('joins the text parts with the separator and hands every other part, with its index, to `other`', () => {
    const others: [unknown, number][] = [];
    expect(messageText(parts, '\n', (part, i) => void others.push([part, i]))).toBe('hello\nworld');
    expect(others).toEqual([
      [parts[1], 1],
      ['stray', 3],
      [parts[4], 4],
    ]);
  });

  it('takes the text `other` gives for a part in its place', () => {
    const refusal = [
      { type: 'refusal', refusal: 'no' },
      { type: 'text', text: 'but this' },
    ];
    expect(messageText(refusal, ' | ', (part) => (part as { refusal?: string }).refusal)).toBe('no | but this');
  });
});

describe('includesUsage', () => {
  it('is true only for stream_options.include_usage: true', () => {
    const body = (extra: Record<string, unknown>) => ({ model: 'm', messages: [], ...extra });
    expect(includesUsage(body({ stream_options: { include_usage: true } }))).toBe(true);
    for (const options of [undefined, null, {}, { include_usage: 'true' }, { include_usage: 1 }]) {
      expect(includesUsage(body({ stream_options: options }))).toBe(false);
    }
  });
});
