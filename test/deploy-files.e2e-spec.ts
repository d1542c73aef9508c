import { existsSync, readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { loadGatewayConfig } from '../src/config/gateway.config.js';

const root = new URL('../', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, root), 'utf8');

type Service = Record<string, any>;

/** `${VAR:-default}` as compose fills it with VAR unset. */
const composeDefault = (v: string) => v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

describe('docker-compose.yml (no Docker engine here: parsed and its wiring checked)', () => {
  const compose = yaml.load(read('docker-compose.yml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = compose.services;
  const { gateway, lb, redis } = services;

  it('runs two gateway replicas behind a load balancer that publishes port 8000', () => {
    expect(gateway.deploy.replicas).toBe(2);
    expect(gateway.ports).toBeUndefined();
    expect(gateway.expose).toContain('8000');
    expect(lb.ports).toContain('8000:8000');
  });

  it('references only services, files and volumes that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect([name, dep, dep in services]).toEqual([name, dep, true]);
      for (const v of s.volumes ?? []) {
        const source = String(v).split(':')[0];
        if (source.startsWith('./')) expect([name, source, existsSync(new URL(source, root))]).toEqual([name, source, true]);
        else expect([name, source, source in (compose.volumes ?? {})]).toEqual([name, source, true]);
      }
    }
    expect(gateway.build).toBe('.');
    expect(existsSync(new URL('Dockerfile', root))).toBe(true);
  });

  it('health-checks every long-running service, the gateway on /v1/health', () => {
    expect(gateway.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8000/v1/health');
    expect(lb.healthcheck.test.join(' ')).toContain('/v1/health');
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(gateway.depends_on.redis.condition).toBe('service_healthy');
  });

  it('shares rate limits through the redis service and takes secrets only from the environment', () => {
    const env = gateway.environment;
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.API_KEYS).toMatch(/^\$\{API_KEYS/);
    expect(env.METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN/);
    expect(gateway.stop_grace_period).toBe('30s');
    expect(Number(env.SHUTDOWN_GRACE_MS)).toBeLessThan(30_000);
  });

  it.each(['config.yaml', 'config.ollama.yaml', 'config.vllm.yaml'])("mounts a CONFIG_FILE (%s) that the service's own validator accepts", (file) => {
    const configPath = composeDefault(gateway.environment.CONFIG_FILE).replace('config.yaml', file);
    expect(configPath).toBe(`/config/${file}`);
    const mount = gateway.volumes.find((v: string) => v.endsWith(':/config:ro'));
    const local = new URL(`${mount.split(':')[0]}/${file}`, root).pathname;
    const config = loadGatewayConfig({ CONFIG_FILE: local });
    expect(config.models.map((m) => m.name)).toContain('echo');
  });

  it('the ollama profile adds a model server the ollama config points at', () => {
    expect(services.ollama.profiles).toEqual(['ollama']);
    expect(services['ollama-pull'].depends_on.ollama.condition).toBe('service_healthy');
    const config = loadGatewayConfig({ CONFIG_FILE: new URL('deploy/config.ollama.yaml', root).pathname });
    expect((config.providers.ollama as { baseURL: string }).baseURL).toBe('http://ollama:11434/v1');
  });

  it('the vllm profile runs vLLM with runtime LoRA loading and the adapters the vllm config points at', () => {
    const vllm = services.vllm;
    expect(vllm.profiles).toEqual(['vllm']);
    expect(vllm.environment.VLLM_ALLOW_RUNTIME_LORA_UPDATING).toBe('True');
    expect(vllm.command).toEqual(expect.arrayContaining(['--enable-lora', '--max-loras']));
    expect(vllm.volumes).toContain('./adapters:/adapters:ro');
    const config = loadGatewayConfig({ CONFIG_FILE: new URL('deploy/config.vllm.yaml', root).pathname });
    const provider = config.providers.vllm as { baseURL: string; adapters: { path: string; maxLoaded: number } };
    expect(provider.baseURL).toBe('http://vllm:8000/v1');
    expect(provider.adapters.path.startsWith('/adapters/')).toBe(true);
    expect(Number(vllm.command[vllm.command.indexOf('--max-loras') + 1])).toBeGreaterThanOrEqual(provider.adapters.maxLoaded);
    expect(config.models.find((m) => m.adapter)?.name).toBe('wandb-artifact:///*');
  });

  it('nginx balances over the gateway service and never buffers a stream', () => {
    const conf = read('deploy/nginx.conf');
    expect(conf).toMatch(/server gateway:8000/);
    expect(conf).toMatch(/proxy_buffering off;/);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/listen 8000;/);
  });

  it('nginx drops slow clients and never serves /metrics to the outside', () => {
    const conf = read('deploy/nginx.conf');
    expect(conf).toMatch(/client_header_timeout \d+s;/);
    expect(conf).toMatch(/client_body_timeout \d+s;/);
    const metrics = /location = \/metrics \{([\s\S]*?)\n\s*\}\n/.exec(conf)?.[1] ?? '';
    expect(metrics).toMatch(/return 404 '(\{.*\})';/);
    expect(JSON.parse(/return 404 '(\{.*\})';/.exec(metrics)![1])).toMatchObject({ detail: 'Not Found', error: { code: 'not_found' } });
  });
});

describe('Dockerfile', () => {
  it('builds in stages on Node 24 LTS and runs as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM node:24-/gm)?.length).toBe(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8000$/m);
    expect(dockerfile).toContain('npm ci');
  });

  it('runs the service with the same node flags as npm start', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(' ');
    const cmd = read('Dockerfile').match(/^CMD (\[.*\])$/m)?.[1];
    expect(JSON.parse(cmd!)).toEqual(start);
  });
});
