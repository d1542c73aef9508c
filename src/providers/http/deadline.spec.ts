import { Deadline, type WatchedStream } from './deadline.js';
import { DeadlineExceeded } from './upstream-errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream whose reader waits for the upstream unless told it is away. */
class FakeStream implements WatchedStream {
  waitingForUpstream = true;
  destroyedAt: number | undefined;
  error: Error | undefined;

  destroy(err?: Error): void {
    this.destroyedAt ??= Date.now();
    this.error ??= err;
  }
}

describe('Deadline', () => {
  const deadlines: Deadline[] = [];
  const make = (ms: number) => {
    const d = new Deadline(ms);
    deadlines.push(d);
    return d;
  };
  afterEach(() => deadlines.splice(0).forEach((d) => d.dispose()));

  it('leaves the body to its own timer: undici bounds the headers only', () => {
    expect(make(1500).timeouts).toEqual({ headersTimeout: 1500, bodyTimeout: 0 });
    expect(make(0).timeouts).toEqual({ headersTimeout: 0, bodyTimeout: 0 });
  });

  it('ends a watched stream when no data event comes within the deadline', async () => {
    const stream = new FakeStream();
    const started = Date.now();
    make(150).watch(stream);
    await sleep(400);
    expect(stream.error).toBeInstanceOf(DeadlineExceeded);
    expect(stream.destroyedAt! - started).toBeGreaterThanOrEqual(140);
    expect(stream.destroyedAt! - started).toBeLessThan(350);
  });

  it('keeps a stream whose data events come within the deadline of each other, however long it runs, and ends it once they stop', async () => {
    const stream = new FakeStream();
    const deadline = make(150);
    deadline.watch(stream);
    for (let i = 0; i < 12; i++) {
      await sleep(50);
      deadline.beat();
    }
    expect(stream.error).toBeUndefined();
    const lastBeat = Date.now();
    await sleep(450);
    expect(stream.error).toBeInstanceOf(DeadlineExceeded);
    expect(stream.destroyedAt! - lastBeat).toBeGreaterThanOrEqual(140);
  });

  it('does not count the time the reader is away (a slow client) as the upstream being silent', async () => {
    const stream = new FakeStream();
    make(100).watch(stream);
    stream.waitingForUpstream = false;
    await sleep(450);
    expect(stream.error).toBeUndefined();
    stream.waitingForUpstream = true;
    await sleep(400);
    expect(stream.error).toBeInstanceOf(DeadlineExceeded);
  });

  it('bounds a whole reply to what is left of the time since the request started', async () => {
    const body = new FakeStream();
    const deadline = make(300);
    await sleep(200);
    deadline.bound(body);
    await sleep(50);
    expect(body.error).toBeUndefined();
    await sleep(250);
    expect(body.error).toBeInstanceOf(DeadlineExceeded);
  });

  it('ends nothing once disposed, and nothing when the deadline is 0', async () => {
    const disposed = new FakeStream();
    const unbounded = new FakeStream();
    const deadline = make(50);
    deadline.watch(disposed);
    deadline.dispose();
    make(0).watch(unbounded);
    make(0).bound(unbounded);
    await sleep(200);
    expect(disposed.error).toBeUndefined();
    expect(unbounded.error).toBeUndefined();
  });
});
