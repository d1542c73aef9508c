/** An event larger than the reader accepts. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`a stream event is larger than ${limit} characters`);
  }
}

/**
 * Splits a byte stream of server-sent events into the `data` payload of each event as it
 * arrives (multi-line data joined with "\n"); comments and other fields are skipped. Each piece of
 * the stream is scanned once, and an event that grows past `maxEventChars` is refused.
 */
export async function* readSseData(body: AsyncIterable<Uint8Array>, maxEventChars = 64 * 1024 * 1024): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  // The event read so far, in pieces: joining only when it is complete keeps a large event linear.
  let parts: string[] = [];
  let size = 0;
  let lastChar = '';
  let pendingCR = false;
  for await (const bytes of body) {
    let text = decoder.decode(bytes, { stream: true });
    if (pendingCR && text.charCodeAt(0) === 10) text = text.slice(1);
    pendingCR = text.endsWith('\r');
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    let from = 0;
    for (;;) {
      let event: string;
      if (from === 0 && lastChar === '\n' && text.charCodeAt(0) === 10) {
        event = parts.join('').slice(0, -1);
        from = 1;
      } else {
        const sep = text.indexOf('\n\n', from);
        if (sep === -1) break;
        event = parts.join('') + text.slice(from, sep);
        from = sep + 2;
      }
      parts = [];
      size = 0;
      lastChar = '';
      const data = eventData(event);
      if (data !== undefined) yield data;
    }
    if (from < text.length) {
      const rest = from === 0 ? text : text.slice(from);
      parts.push(rest);
      size += rest.length;
      lastChar = rest[rest.length - 1];
      if (size > maxEventChars) throw new SseEventTooLarge(maxEventChars);
    }
  }
  const data = eventData(parts.join('') + decoder.decode());
  if (data !== undefined) yield data;
}

function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
