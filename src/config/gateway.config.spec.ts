import { ConfigError, isTrainable, loadGatewayConfig, substituteEnv, validateGatewayConfig } from './gateway.config.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const problems = (raw: unknown) => {
  try {
    validateGatewayConfig(raw, 'test');
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('gateway configuration', () => {
  const ISSUE_EXAMPLE = `
providers:
  vllm:
    type: openai              # any OpenAI-compatible server
    baseURL: http://vllm:8000/v1
    apiKey: \${VLLM_API_KEY:-}
    timeoutMs: 120000
    maxRetries: 2
  claude:
    type: anthropic
    apiKey: \${ANTHROPIC_API_KEY}
models:
  - name: qwen3-8b
    provider: vllm
    model: Qwen/Qwen3-8B
  - name: "vllm/*"
    provider: vllm
  - name: "wandb-artifact:///*"
    provider: vllm
  - name: smart
    provider: claude
    model: claude-sonnet-4-5
    fallbacks: [qwen3-8b]
`;

  const load = (text: string, env: Record<string, string>) => {
    const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.yaml');
    writeFileSync(path, text);
    return loadGatewayConfig({ CONFIG_FILE: path, ...env });
  };

  it('accepts the documented example as written, with defaults filled in', () => {
    const config = load(ISSUE_EXAMPLE, { ANTHROPIC_API_KEY: 'sk-ant-x' });
    expect(config.providers.vllm).toMatchObject({ type: 'openai', baseURL: 'http://vllm:8000/v1', apiKey: '', timeoutMs: 120000, maxRetries: 2 });
    expect(config.providers.claude).toMatchObject({ type: 'anthropic', apiKey: 'sk-ant-x', defaultMaxTokens: 4096 });
    expect(config.models.map((m) => m.name)).toEqual(['qwen3-8b', 'vllm/*', 'wandb-artifact:///*', 'smart']);
  });

  it('stops on an unset ${VAR}, naming the place and the variable but no value', () => {
    expect(() => load(ISSUE_EXAMPLE, {})).toThrow('providers.claude.apiKey: environment variable ANTHROPIC_API_KEY is not set');
  });

  it('fills ${VAR:-default} and converts numbers', () => {
    expect(substituteEnv({ a: '${X:-5}', b: ['x${Y}y'] }, { Y: '1' })).toEqual({ a: '5', b: ['x1y'] });
    expect(load(ISSUE_EXAMPLE.replace('120000', '${T:-900}'), { ANTHROPIC_API_KEY: 'k' }).providers.vllm).toMatchObject({ timeoutMs: 900 });
  });

  it('names the place of every problem', () => {
    const message = problems({
      providers: {
        a: { type: 'openai' },
        b: { type: 'grpc' },
        e: { type: 'echo', baseURL: 'http://x' },
        o: { type: 'openai', baseURL: 'http://o/v1', timeoutMs: 'soon' },
      },
      models: [
        { name: 'x', provider: 'a' },
        { provider: 'a' },
        { name: 'y', provider: 'missing' },
        { name: 'z', provider: 'a', fallbacks: ['nope'] },
        { name: 'w', targets: [{ provider: 'gone' }] },
      ],
    });
    expect(message).toContain('providers.a.baseURL');
    expect(message).toContain('providers.b.type: must be one of openai, anthropic, echo, llama-cpp');
    expect(message).toContain('providers.e.baseURL: unknown field');
    expect(message).toContain('providers.o.timeoutMs');
    expect(message).toContain('models[1].name');
    expect(message).toContain("models[2].provider: unknown provider 'missing'");
    expect(message).toContain("models[3].fallbacks[0]: 'nope' is not a configured model name");
    expect(message).toContain("models[4].targets[0].provider: unknown provider 'gone'");
  });

  it('serves echo without CONFIG_FILE', () => {
    expect(loadGatewayConfig({})).toMatchObject({ providers: { echo: { type: 'echo' } }, models: [{ name: 'echo', provider: 'echo' }] });
  });

  it('reports an unreadable file and invalid YAML clearly', () => {
    expect(() => loadGatewayConfig({ CONFIG_FILE: '/nonexistent/c.yaml' })).toThrow('CONFIG_FILE: cannot read /nonexistent/c.yaml (ENOENT)');
    expect(() => load('providers: [a: b: c', {})).toThrow(/not valid YAML/);
  });

  describe('training rollouts (issue #19)', () => {
    const TRAINING = `
providers:
  vllm:
    type: openai
    baseURL: http://vllm:8000/v1
    adapters:
      path: /adapters/{entity}/{project}/{name}/{version}
      maxLoaded: 8
      resolve:
        directory: /adapters
        ttlMs: 10000
models:
  - name: "wandb-artifact:///*"
    provider: vllm
    adapter: true
    trainable: true
  - name: qwen
    provider: vllm
    model: Qwen/Qwen3-8B
`;

    it("accepts the issue's adapters block as written; adapter routes are trainable unless told otherwise, other routes are not", () => {
      const config = load(TRAINING, {});
      expect(config.providers.vllm).toMatchObject({ adapters: { maxLoaded: 8, resolve: { directory: '/adapters', ttlMs: 10000 } } });
      expect(config.models.map(isTrainable)).toEqual([true, false]);
      const implicit = load(TRAINING.replace('    trainable: true\n', ''), {});
      expect(implicit.models.map(isTrainable)).toEqual([true, false]);
      expect(load(TRAINING.replace('trainable: true', 'trainable: false'), {}).models.map(isTrainable)).toEqual([false, false]);
    });

    it('takes an http resolver, and per-provider training switches', () => {
      const config = load(
        TRAINING.replace('directory: /adapters', 'http: http://registry:9000/resolve/{entity}/{project}/{name}').replace(
          '    adapters:',
          '    training: { returnTokenIds: false }\n    adapters:',
        ),
        {},
      );
      expect(config.providers.vllm).toMatchObject({
        adapters: { resolve: { http: 'http://registry:9000/resolve/{entity}/{project}/{name}' } },
        training: { logprobs: true, returnTokensAsTokenIds: true, returnTokenIds: false, includeUsage: true },
      });
    });

    it('wants exactly one resolver', () => {
      const both = problems({
        providers: { v: { type: 'openai', baseURL: 'http://v/v1', adapters: { path: '/a/{name}', resolve: { directory: '/a', http: 'http://r/{name}' } } } },
        models: [{ name: 'm', provider: 'v' }],
      });
      expect(both).toContain("providers.v.adapters.resolve: give 'directory' or 'http' (one of them)");
      const none = problems({
        providers: { v: { type: 'openai', baseURL: 'http://v/v1', adapters: { path: '/a/{name}', resolve: { ttlMs: 5 } } } },
        models: [{ name: 'm', provider: 'v' }],
      });
      expect(none).toContain("providers.v.adapters.resolve: give 'directory' or 'http' (one of them)");
      expect(
        problems({
          providers: { v: { type: 'openai', baseURL: 'http://v/v1', adapters: { path: '/a/{name}', resolve: { http: 'ftp://x' } } } },
          models: [{ name: 'm', provider: 'v' }],
        }),
      ).toContain('providers.v.adapters.resolve.http: must be an http(s) URL template');
    });

    it('refuses a trainable route on a provider that cannot give token ids, naming the route; echo and llama-cpp can', () => {
      const message = problems({
        providers: { claude: { type: 'anthropic', apiKey: 'k' }, echo: { type: 'echo' } },
        models: [
          { name: 'rl', targets: [{ provider: 'echo' }, { provider: 'claude' }], trainable: true },
          { name: 'chat', provider: 'claude' },
          { name: 'echo-rl', provider: 'echo', trainable: true },
        ],
      });
      expect(message.split('\n').slice(1)).toEqual([
        "  models[0].trainable: the trainable route 'rl' is served by 'claude' (type anthropic), which cannot give token ids and logprobs; set trainable: false or serve it elsewhere",
      ]);
    });
  });
});
