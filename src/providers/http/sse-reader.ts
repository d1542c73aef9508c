import { StringDecoder } from 'node:string_decoder';

/** An event larger than the reader accepts. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`a stream event is larger than ${limit} characters`);
  }
}

/**
 * Splits a byte stream of server-sent events into the `data` payload of each event, piece by
 * piece and synchronously: `push` returns the events a piece completed (multi-line data joined
 * with "\n"; comments and other fields skipped), `end` the last one. Each piece is scanned once,
 * and an event that grows past `maxEventChars` is refused.
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  // The event read so far, in pieces: joining only when it is complete keeps a large event linear.
  private parts: string[] = [];
  private size = 0;
  private lastChar = '';
  private pendingCR = false;

  constructor(private readonly maxEventChars = 64 * 1024 * 1024) {}

  push(bytes: Uint8Array): string[] {
    let text = this.decoder.write(bytes);
    if (this.pendingCR && text.charCodeAt(0) === 10) text = text.slice(1);
    this.pendingCR = text.endsWith('\r');
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    let from = 0;
    for (;;) {
      let event: string;
      if (from === 0 && this.lastChar === '\n' && text.charCodeAt(0) === 10) {
        event = this.parts.join('').slice(0, -1);
        from = 1;
      } else {
        const sep = text.indexOf('\n\n', from);
        if (sep === -1) break;
        event = this.parts.length === 0 ? text.slice(from, sep) : this.parts.join('') + text.slice(from, sep);
        from = sep + 2;
      }
      this.parts = [];
      this.size = 0;
      this.lastChar = '';
      const data = eventData(event);
      if (data !== undefined) out.push(data);
    }
    if (from < text.length) {
      const rest = from === 0 ? text : text.slice(from);
      this.parts.push(rest);
      this.size += rest.length;
      this.lastChar = rest[rest.length - 1];
      if (this.size > this.maxEventChars) throw new SseEventTooLarge(this.maxEventChars);
    }
    return out;
  }

  /** The event the stream ended in without a blank line, if any. */
  end(): string[] {
    const data = eventData(this.parts.join('') + this.decoder.end());
    this.parts = [];
    return data === undefined ? [] : [data];
  }
}

/** The `data` payloads of a byte stream of server-sent events, as they arrive. */
export async function* readSseData(body: AsyncIterable<Uint8Array>, maxEventChars?: number): AsyncGenerator<string> {
  const parser = new SseParser(maxEventChars);
  for await (const bytes of body) yield* parser.push(bytes);
  yield* parser.end();
}

function eventData(event: string): string | undefined {
  // The common case, one `data:` line, without splitting.
  if (event.startsWith('data:') && !event.includes('\n')) return event.charCodeAt(5) === 32 ? event.slice(6) : event.slice(5);
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
