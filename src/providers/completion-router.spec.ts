import { ApiError, UpstreamError } from '../common/errors/api-error.js';
import { CheckpointVersions } from './checkpoints/checkpoint-versions.js';
import { backoff, CompletionRouter } from './completion-router.js';
import type { BackendRequest, CompletionFrame, ModelBackend } from './model-backend.js';
import { ModelRegistry, type ProviderEntry } from './model-registry.js';
import type { RouterEvents } from './router-events.js';

/** A backend that answers from a script of outcomes and counts its calls. */
class ScriptedBackend implements ModelBackend {
  readonly kind = 'scripted';
  calls: BackendRequest[] = [];
  constructor(private readonly outcome: (n: number) => 'ok' | Error) {}
  async complete(request: BackendRequest): Promise<CompletionFrame> {
    this.calls.push(request);
    const o = this.outcome(this.calls.length);
    if (o instanceof Error) throw o;
    return { completion: { id: 'x', object: 'chat.completion', created: 0, model: request.requestedModel, choices: [] } };
  }
  async *stream() {}
}

const policy = { maxRetries: 2, retryBackoffMs: 1, cooldownAfterFailures: 2, cooldownMs: 60_000 };
const down = () => new UpstreamError({ provider: 'p', status: 503, message: 'down', retryable: true });
const entry = (name: string, backend: ModelBackend): ProviderEntry => ({ name, backend, policy });
const signal = new AbortController().signal;
const body = { json: { model: 'm', messages: [] } };

function setup(backends: Record<string, ModelBackend>, routes: ConstructorParameters<typeof ModelRegistry>[1]) {
  const events: string[] = [];
  const recorder: RouterEvents = {
    retry: (p, r) => events.push(`retry ${p} ${r}`),
    fallback: (f, t) => events.push(`fallback ${f}->${t}`),
    upstreamError: (p, k) => events.push(`error ${p} ${k}`),
    adapterLoaded() {},
    adapterUnloaded() {},
    adapterHit() {},
  };
  const registry = new ModelRegistry(new Map(Object.entries(backends).map(([n, b]) => [n, entry(n, b)])), routes);
  return { registry, router: new CompletionRouter(registry, recorder), events };
}

describe('CompletionRouter', () => {
  it('spreads load by weight', async () => {
    const a = new ScriptedBackend(() => 'ok');
    const b = new ScriptedBackend(() => 'ok');
    const { registry, router } = setup({ a, b }, [
      {
        name: 'm',
        targets: [
          { provider: 'a', weight: 3 },
          { provider: 'b', weight: 1 },
        ],
      },
    ]);
    for (let i = 0; i < 400; i++) await router.complete(registry.resolve('m'), body, signal);
    expect(a.calls.length / 400).toBeGreaterThan(0.65);
    expect(a.calls.length / 400).toBeLessThan(0.85);
  });

  it('tries another target at once when one has no room for an adapter, without counting it as a failure', async () => {
    const full = new ScriptedBackend(() => new ApiError({ status: 503, message: 'no room', code: 'adapter_capacity', headers: { 'retry-after': '1' } }));
    const room = new ScriptedBackend(() => 'ok');
    const { registry, router, events } = setup({ full, room }, [
      {
        name: 'm',
        targets: [
          { provider: 'full', weight: 1000 },
          { provider: 'room', weight: 1 },
        ],
      },
    ]);
    for (let i = 0; i < 5; i++) await router.complete(registry.resolve('m'), body, signal);
    expect(room.calls).toHaveLength(5);
    // Never cooled down (it would be passed over after two failures), never counted as an upstream error or retry.
    expect(full.calls).toHaveLength(5);
    expect(events).toEqual([]);
    const alone = setup({ full }, [{ name: 'm', provider: 'full', targets: [{ provider: 'full', weight: 1 }] } as never]);
    await expect(alone.router.complete(alone.registry.resolve('m'), body, signal)).rejects.toMatchObject({ status: 503, code: 'adapter_capacity' });
  });

  it('retries on another target, then cools a failing target down and passes it over', async () => {
    const bad = new ScriptedBackend(down);
    const good = new ScriptedBackend(() => 'ok');
    const { registry, router, events } = setup({ bad, good }, [
      {
        name: 'm',
        targets: [
          { provider: 'bad', weight: 1000 },
          { provider: 'good', weight: 1 },
        ],
      },
    ]);
    const served = new Set<string>();
    for (let i = 0; i < 20; i++) served.add((await router.complete(registry.resolve('m'), body, signal)).provider);
    expect(served).toEqual(new Set(['good']));
    expect(good.calls).toHaveLength(20);
    expect(bad.calls.length).toBe(2);
    expect(events).toContain('retry bad 5xx');
  });

  it('reports fallbacks and never retries a client error', async () => {
    const bad = new ScriptedBackend(
      () => new UpstreamError({ provider: 'p', status: 400, message: 'bad request', retryable: false, body: { error: { message: 'bad request' } } }),
    );
    const spare = new ScriptedBackend(() => 'ok');
    const { registry, router, events } = setup({ bad, spare }, [
      { name: 'm', targets: [{ provider: 'bad', weight: 1 }], fallbacks: ['s'] },
      { name: 's', targets: [{ provider: 'spare', weight: 1 }] },
    ]);
    await expect(router.complete(registry.resolve('m'), body, signal)).rejects.toMatchObject({ status: 400 });
    expect(bad.calls).toHaveLength(1);
    expect(spare.calls).toHaveLength(0);
    expect(events).toEqual(['error bad 4xx']);
  });

  it("says which provider served: the fallback's, when the first model failed", async () => {
    const bad = new ScriptedBackend(down);
    const spare = new ScriptedBackend(() => 'ok');
    const { registry, router, events } = setup({ bad, spare }, [
      { name: 'm', targets: [{ provider: 'bad', weight: 1 }], fallbacks: ['s'] },
      { name: 's', targets: [{ provider: 'spare', weight: 1 }] },
    ]);
    const served = await router.complete(registry.resolve('m'), body, signal);
    expect(served.provider).toBe('spare');
    expect(served.frame.completion.model).toBe('m');
    expect(events).toContain('fallback m->s');
  });

  it('stops at once when the client aborts during a backoff', async () => {
    const bad = new ScriptedBackend(() => new UpstreamError({ provider: 'p', status: 503, message: 'down', retryable: true, retryAfterMs: 5000 }));
    const { registry, router } = setup({ bad }, [{ name: 'm', targets: [{ provider: 'bad', weight: 1 }] }]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('client left')), 50);
    await expect(router.complete(registry.resolve('m'), body, controller.signal)).rejects.toThrow('client left');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('backs off exponentially with jitter, and honours a longer Retry-After up to the cap', () => {
    for (let i = 0; i < 50; i++) {
      expect(backoff(0, 100)).toBeGreaterThanOrEqual(50);
      expect(backoff(0, 100)).toBeLessThanOrEqual(100);
      expect(backoff(3, 100)).toBeGreaterThanOrEqual(400);
      expect(backoff(3, 100)).toBeLessThanOrEqual(800);
    }
    expect(backoff(0, 100, 3000)).toBe(3000);
    expect(backoff(0, 100, 999_999)).toBe(10_000);
  });

  describe('trained checkpoints and trainable routes', () => {
    const missing = (id: string) =>
      new ApiError({ status: 404, message: `The checkpoint '${id}' could not be loaded`, code: 'model_not_found', param: 'model' });
    /** A provider whose resolver answers `answers` in turn, and whose backend fails for the versions in `gone`. */
    function withResolver(answers: string[], gone: string[]) {
      const backend = new ScriptedBackend(() => 'ok');
      const seen: string[] = [];
      backend.complete = async (request) => {
        backend.calls.push(request);
        seen.push(request.model);
        if (gone.some((v) => request.model.endsWith(`:${v}`))) throw missing(request.model);
        return { completion: { id: 'x', object: 'chat.completion', created: 0, model: request.requestedModel, choices: [] } };
      };
      const versions = new CheckpointVersions({ resolve: async () => answers.shift() ?? 'none' }, 60_000);
      const entries = new Map([['v', { name: 'v', backend, policy: { ...policy, maxRetries: 0 }, loadsAdapters: true, versions }]]);
      const registry = new ModelRegistry(entries, [{ name: 'ck:///*', targets: [{ provider: 'v', weight: 1 }], adapter: true, trainable: true }]);
      const router = new CompletionRouter(registry, {
        retry() {},
        fallback() {},
        upstreamError() {},
        adapterLoaded() {},
        adapterUnloaded() {},
        adapterHit() {},
      });
      return { registry, router, seen };
    }

    it('asks the backend for the version the resolver names, and says which version served', async () => {
      const { registry, router, seen } = withResolver(['step4'], []);
      const served = await router.complete(registry.resolve('ck:///acme/agents/bot'), body, signal);
      expect(seen).toEqual(['acme/agents/bot:step4']);
      expect(served.checkpointVersion).toBe('step4');
      expect(served.frame.completion.model).toBe('ck:///acme/agents/bot');
      // A pinned version is asked for as it is.
      expect((await router.complete(registry.resolve('ck:///acme/agents/bot:step2'), body, signal)).checkpointVersion).toBe('step2');
    });

    it('asks the resolver again when the upstream cannot serve that version, and tries a different answer once', async () => {
      const moved = withResolver(['step4', 'step3'], ['step4']);
      expect((await moved.router.complete(moved.registry.resolve('ck:///acme/agents/bot'), body, signal)).checkpointVersion).toBe('step3');
      expect(moved.seen).toEqual(['acme/agents/bot:step4', 'acme/agents/bot:step3']);
      // The same answer again: no second try of what just failed.
      const stuck = withResolver(['step4', 'step4'], ['step4']);
      await expect(stuck.router.complete(stuck.registry.resolve('ck:///acme/agents/bot'), body, signal)).rejects.toMatchObject({ status: 404 });
      expect(stuck.seen).toEqual(['acme/agents/bot:step4']);
    });

    it("sends a trainable route what training needs, and a plain route the client's own body", async () => {
      const backend = new ScriptedBackend(() => 'ok');
      const { registry, router } = setup({ b: backend }, [
        { name: 'm', targets: [{ provider: 'b', weight: 1 }], trainable: true },
        { name: 'p', targets: [{ provider: 'b', weight: 1 }] },
      ]);
      await router.complete(registry.resolve('m'), body, signal);
      expect(backend.calls[0].body.json).toMatchObject({ logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true });
      await router.complete(registry.resolve('p'), body, signal);
      expect(backend.calls[1].body).toBe(body);
    });
  });
});
