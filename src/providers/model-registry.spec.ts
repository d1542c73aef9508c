import { UnknownModelError } from '../common/errors/api-error.js';
import { EchoBackend } from './echo/echo.backend.js';
import { ModelRegistry } from './model-registry.js';

describe('ModelRegistry', () => {
  const echo = new EchoBackend();
  const registry = new ModelRegistry(new Map([['e', echo]]), [
    { name: 'echo', provider: 'e' },
    { name: 'alias', provider: 'e', model: 'real-name' },
    { name: 'vllm/*', provider: 'e' },
    { name: 'vllm/special/*', provider: 'e', model: 'fixed' },
  ]);

  it('resolves exact names and aliases', () => {
    expect(registry.resolve('echo')).toMatchObject({ backend: echo, model: 'echo', requestedModel: 'echo' });
    expect(registry.resolve('alias').model).toBe('real-name');
  });

  it('passes a wildcard rest on, longest prefix first', () => {
    expect(registry.resolve('vllm/Qwen/Qwen3-8B').model).toBe('Qwen/Qwen3-8B');
    expect(registry.resolve('vllm/special/x').model).toBe('fixed');
  });

  it('throws UnknownModelError for anything else', () => {
    expect(() => registry.resolve('vllm/')).toThrow(UnknownModelError);
    expect(() => registry.resolve('gpt-4')).toThrow(UnknownModelError);
  });

  it('rejects a route to a missing provider', () => {
    expect(() => new ModelRegistry(new Map(), [{ name: 'x', provider: 'nope' }])).toThrow(/unknown provider 'nope'/);
  });
});
