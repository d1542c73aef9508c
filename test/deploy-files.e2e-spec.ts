import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const read = (f: string) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');

describe('docker-compose.yml and Dockerfile (no Docker engine here: parsed and checked)', () => {
  const compose = yaml.load(read('docker-compose.yml')) as { services: Record<string, any> };
  const gateway = compose.services.gateway;

  it('builds the service from this Dockerfile and publishes port 8000', () => {
    expect(gateway.build).toBeDefined();
    expect(gateway.ports).toContain('8000:8000');
    expect(gateway.environment.PORT).toBe('8000');
  });

  it('health-checks /v1/health on the port the service listens on', () => {
    expect(gateway.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8000/v1/health');
  });

  it('passes API keys from the environment, never a key written in the file', () => {
    expect(gateway.environment.API_KEYS).toMatch(/^\$\{API_KEYS/);
  });

  it('builds in stages on Node 22 and runs as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM node:22/gm)?.length).toBe(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8000$/m);
    expect(dockerfile).toContain('npm ci');
  });
});
