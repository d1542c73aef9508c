import { UnknownModelError } from '../common/errors/api-error.js';
import { EchoBackend } from './echo/echo.backend.js';
import { ModelRegistry, NO_RETRIES, type ProviderEntry } from './model-registry.js';

describe('ModelRegistry', () => {
  const e: ProviderEntry = { name: 'e', backend: new EchoBackend(), policy: NO_RETRIES };
  const f: ProviderEntry = { name: 'f', backend: new EchoBackend(), policy: NO_RETRIES };
  const registry = new ModelRegistry(
    new Map([
      ['e', e],
      ['f', f],
    ]),
    [
      { name: 'echo', targets: [{ provider: 'e', weight: 1 }] },
      { name: 'alias', targets: [{ provider: 'e', model: 'real-name', weight: 1 }], fallbacks: ['echo'] },
      { name: 'vllm/*', targets: [{ provider: 'e', weight: 1 }] },
      { name: 'vllm/special/*', targets: [{ provider: 'e', model: 'fixed', weight: 1 }] },
      {
        name: 'spread',
        targets: [
          { provider: 'e', weight: 3 },
          { provider: 'f', model: 'other', weight: 1 },
        ],
      },
    ],
  );

  it('resolves exact names and aliases', () => {
    expect(registry.resolve('echo').targets).toEqual([{ provider: e, model: 'echo', weight: 1, adapter: false }]);
    expect(registry.resolve('alias')).toMatchObject({ targets: [{ model: 'real-name' }], fallbacks: ['echo'], requestedModel: 'alias' });
  });

  it('passes a wildcard rest on, longest prefix first', () => {
    expect(registry.resolve('vllm/Qwen/Qwen3-8B').targets[0].model).toBe('Qwen/Qwen3-8B');
    expect(registry.resolve('vllm/special/x').targets[0].model).toBe('fixed');
  });

  it('keeps every weighted target', () => {
    expect(registry.resolve('spread').targets.map((t) => [t.provider.name, t.model, t.weight])).toEqual([
      ['e', 'spread', 3],
      ['f', 'other', 1],
    ]);
  });

  it('throws UnknownModelError for anything else', () => {
    expect(() => registry.resolve('vllm/')).toThrow(UnknownModelError);
    expect(() => registry.resolve('gpt-4')).toThrow(UnknownModelError);
  });

  it('lists configured names in order', () => {
    expect(registry.names()).toEqual(['echo', 'alias', 'vllm/*', 'vllm/special/*', 'spread']);
  });

  it('rejects a route to a missing provider', () => {
    expect(() => new ModelRegistry(new Map(), [{ name: 'x', targets: [{ provider: 'nope', weight: 1 }] }])).toThrow(/unknown provider 'nope'/);
  });

  describe('trained checkpoints', () => {
    const v: ProviderEntry = { name: 'v', backend: new EchoBackend(), policy: NO_RETRIES, loadsAdapters: true };
    const checkpoints = new ModelRegistry(new Map([['v', v]]), [
      { name: 'wandb-artifact:///*', targets: [{ provider: 'v', weight: 1 }], adapter: true, trainable: true },
      { name: 'plain', targets: [{ provider: 'v', weight: 1 }] },
    ]);

    it('parses the checkpoint an adapter route names: pinned or not', () => {
      expect(checkpoints.resolve('wandb-artifact:///acme/agents/bot:step3').targets[0]).toMatchObject({
        model: 'acme/agents/bot:step3',
        adapter: true,
        checkpoint: { base: 'acme/agents/bot', version: 'step3', pinned: true },
      });
      for (const name of ['wandb-artifact:///acme/agents/bot', 'wandb-artifact:///acme/agents/bot:latest']) {
        expect(checkpoints.resolve(name).targets[0]).toMatchObject({ model: 'acme/agents/bot:latest', checkpoint: { version: 'latest', pinned: false } });
      }
      expect(checkpoints.resolve('plain').targets[0].checkpoint).toBeUndefined();
    });

    it("answers the two-slash form of a `scheme:///*` adapter route, keeping the client's name", () => {
      const resolved = checkpoints.resolve('wandb-artifact://acme/agents/bot:v2');
      expect(resolved).toMatchObject({
        requestedModel: 'wandb-artifact://acme/agents/bot:v2',
        routeName: 'wandb-artifact:///*',
        targets: [{ model: 'acme/agents/bot:v2' }],
      });
      expect(checkpoints.canonicalName('wandb-artifact://acme/agents/bot:v2')).toBe('wandb-artifact:///acme/agents/bot:v2');
      expect(checkpoints.canonicalName('wandb-artifact:///acme/agents/bot')).toBe('wandb-artifact:///acme/agents/bot');
      expect(checkpoints.canonicalName('plain')).toBe('plain');
      expect(() => checkpoints.resolve('wandb-artifact://')).toThrow(UnknownModelError);
      // Without an adapter route of that scheme, the two-slash form is nothing.
      expect(() => registry.resolve('wandb-artifact://acme/agents/bot')).toThrow(UnknownModelError);
    });

    it('says whether a route is trainable', () => {
      expect(checkpoints.resolve('wandb-artifact:///acme/agents/bot').trainable).toBe(true);
      expect(checkpoints.resolve('plain').trainable).toBe(false);
    });
  });
});
