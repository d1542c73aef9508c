import { OverloadedError } from '../../common/errors/api-error.js';
import { SequencePool } from './llama-cpp.pool.js';

const never = new AbortController().signal;

describe('SequencePool', () => {
  it('lends free items at once and serves waiters first in, first out', async () => {
    const pool = new SequencePool(['s1'], 3);
    const first = await pool.acquire(never);
    const order: string[] = [];
    const a = pool.acquire(never).then((s) => order.push(`a:${s}`));
    const b = pool.acquire(never).then((s) => order.push(`b:${s}`));
    expect(pool.queued).toBe(2);
    pool.release(first);
    await a;
    pool.release('s1');
    await b;
    expect(order).toEqual(['a:s1', 'b:s1']);
  });

  it('refuses with a 503 OverloadedError carrying Retry-After when the queue is full', async () => {
    const pool = new SequencePool(['s1'], 1, 2);
    await pool.acquire(never);
    void pool.acquire(never);
    const refused = await pool.acquire(never).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OverloadedError);
    expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': '2' } });
  });

  it('drops a waiter whose signal aborts, so it neither holds a place nor receives an item', async () => {
    const pool = new SequencePool(['s1'], 1);
    const held = await pool.acquire(never);
    const controller = new AbortController();
    const gone = pool.acquire(controller.signal);
    controller.abort(new Error('client left'));
    await expect(gone).rejects.toThrow('client left');
    expect(pool.queued).toBe(0);
    const next = pool.acquire(never);
    pool.release(held);
    await expect(next).resolves.toBe('s1');
  });

  it('rejects an already aborted request without queueing it', async () => {
    const pool = new SequencePool<string>([], 4);
    await expect(pool.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(pool.queued).toBe(0);
  });

  it('rejects waiters and new requests once closed', async () => {
    const pool = new SequencePool<string>([], 4);
    const waiting = pool.acquire(never);
    pool.close(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await expect(pool.acquire(never)).rejects.toThrow('shutting down');
  });
});
