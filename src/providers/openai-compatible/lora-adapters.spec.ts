import { MockVllm } from '../../../test/support/mock-vllm.js';
import { ApiError } from '../../common/errors/api-error.js';
import { parseCheckpoint } from '../checkpoint-name.js';
import { createUpstreamPool, type UpstreamTarget } from '../http/upstream-pool.js';
import type { RouterEvents } from '../router-events.js';
import { LoraAdapters } from './lora-adapters.js';

const noEvents: RouterEvents = { retry() {}, fallback() {}, upstreamError() {}, adapterLoaded() {}, adapterUnloaded() {}, adapterHit() {} };
const ck = (name: string) => parseCheckpoint(`acme/agents/${name}:v1`, name);
const never = new AbortController().signal;

describe('LoraAdapters against a vLLM stand-in', () => {
  const vllm = new MockVllm();
  let target: UpstreamTarget;
  const adapters = (maxLoaded: number, loadTimeoutMs = 5_000) =>
    new LoraAdapters('vllm', target, { 'content-type': 'application/json' }, { path: '/adapters/{name}', maxLoaded, loadTimeoutMs }, noEvents);
  const upstreamCalls = () => vllm.requests.map((r) => `${r.url.slice('/v1/'.length)} ${r.json.lora_name}`);

  beforeAll(async () => {
    await vllm.start();
    target = createUpstreamPool(vllm.baseURL);
  });
  afterAll(async () => {
    await target.pool.destroy();
    await vllm.stop();
  });
  beforeEach(() => {
    vllm.reset();
    vllm.restart();
    vllm.hangLoads = 0;
    vllm.loadDelayMs = 0;
    vllm.peakLoaded = 0;
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) vllm.paths.add(`/adapters/${n}`);
  });

  it('a request waiting on a load that never answers stops waiting when its client leaves; the load still ends at its deadline', async () => {
    vllm.hangLoads = 1;
    const lora = adapters(2, 1_000);
    const client = new AbortController();
    const started = performance.now();
    const waiting = lora.acquire(ck('a'), client.signal);
    const settled = waiting.then(
      () => 'acquired',
      (err: unknown) => err,
    );
    setTimeout(() => client.abort(new Error('client left')), 100);
    const outcome = await Promise.race([settled, new Promise((r) => setTimeout(() => r('still waiting'), 700))]);
    expect(outcome).toEqual(new Error('client left'));
    expect(performance.now() - started).toBeLessThan(700);
    // The load itself was not the client's: it ends at the deadline, and the next request loads afresh.
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await lora.acquire(ck('a'), never)).loraName).toBe('acme/agents/a:v1');
    expect(upstreamCalls()).toEqual(['load_lora_adapter acme/agents/a:v1', 'load_lora_adapter acme/agents/a:v1']);
  });

  it('a load that misses its deadline is a 504 upstream_timeout for every waiter, and is forgotten', async () => {
    vllm.hangLoads = 1;
    const lora = adapters(2, 300);
    const waiters = await Promise.allSettled([lora.acquire(ck('a'), never), lora.acquire(ck('a'), never)]);
    for (const w of waiters) expect(w).toMatchObject({ status: 'rejected', reason: { status: 504, code: 'upstream_timeout' } });
    expect(lora.list()).toEqual([]);
    await lora.acquire(ck('a'), never);
    expect(lora.list()).toEqual(['acme/agents/a:v1']);
    expect(vllm.calls('load_lora_adapter')).toHaveLength(2);
  });

  it('replaces the least recently used idle adapter only after the new one loaded; a failed load unloads nothing', async () => {
    const lora = adapters(2);
    for (const n of ['a', 'b']) (await lora.acquire(ck(n), never)).release();
    await expect(lora.acquire(parseCheckpoint('acme/agents/missing:v1', 'missing'), never)).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    expect(vllm.calls('unload_lora_adapter')).toHaveLength(0);
    expect(lora.list()).toEqual(['acme/agents/a:v1', 'acme/agents/b:v1']);

    vllm.reset();
    (await lora.acquire(ck('c'), never)).release();
    expect(upstreamCalls()).toEqual(['load_lora_adapter acme/agents/c:v1', 'unload_lora_adapter acme/agents/a:v1']);
    expect([...vllm.loaded].sort()).toEqual(['acme/agents/b:v1', 'acme/agents/c:v1']);
  });

  it('answers 503 adapter_capacity with Retry-After when every slot is busy, and never holds more than maxLoaded + 1 upstream', async () => {
    const lora = adapters(2);
    const a = await lora.acquire(ck('a'), never);
    const b = await lora.acquire(ck('b'), never);
    const full = await lora.acquire(ck('c'), never).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(ApiError);
    expect(full).toMatchObject({ status: 503, code: 'adapter_capacity', headers: { 'retry-after': '1' } });
    expect(vllm.calls('load_lora_adapter')).toHaveLength(2);

    // b goes idle: c may replace it, one swap at a time, so d (asked meanwhile) is told to come back.
    b.release();
    vllm.loadDelayMs = 200;
    const [c, d] = await Promise.allSettled([lora.acquire(ck('c'), never), lora.acquire(ck('d'), never)]);
    expect(c.status).toBe('fulfilled');
    expect(d).toMatchObject({ status: 'rejected', reason: { code: 'adapter_capacity' } });
    expect([...vllm.loaded].sort()).toEqual(['acme/agents/a:v1', 'acme/agents/c:v1']);
    expect(vllm.peakLoaded).toBe(3);
    a.release();
  });

  it('keeps maxLoaded under concurrent first requests for different checkpoints', async () => {
    vllm.loadDelayMs = 100;
    const lora = adapters(3);
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => lora.acquire(ck(n), never)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason.code)).toEqual(Array(3).fill('adapter_capacity'));
    expect(vllm.peakLoaded).toBe(3);
    expect(lora.list()).toHaveLength(3);
  });
});
