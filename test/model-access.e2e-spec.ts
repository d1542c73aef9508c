import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { post, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { MockUpstream, reply } from './support/mock-upstream.js';
import { MockVllm } from './support/mock-vllm.js';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });
const as = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

/** A key's model list is checked against what is served: the checkpoint a wildcard reaches, and every fallback. */
describe('model access is decided on what is served', () => {
  const vllm = new MockVllm();
  const failing = new MockUpstream();
  const spare = new MockUpstream();
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    failing.handler = (_req, res) => reply(res, 503, { error: { message: 'overloaded', type: 'server_error' } });
    await Promise.all([vllm.start(), failing.start(), spare.start()]);
    vllm.paths.add('/adapters/acme/proj/bot/step1');
    const config = writeConfig(`
providers:
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    adapters: { path: "/adapters/{entity}/{project}/{name}/{version}" }
  down:
    type: openai
    baseURL: ${failing.baseURL}
    maxRetries: 0
  spare:
    type: openai
    baseURL: ${spare.baseURL}
models:
  - name: "vllm/*"
    provider: vllm
  - name: "wandb-artifact:///*"
    provider: vllm
    adapter: true
  - name: smart
    provider: down
    fallbacks: [cheap]
  - name: cheap
    provider: spare
    model: spare-model
`);
    const dir = mkdtempSync(join(tmpdir(), 'gw-access-'));
    const keys = join(dir, 'keys.yaml');
    writeFileSync(
      keys,
      stringify([
        { name: 'wildcard-only', sha256: sha('sk-wildcard'), models: ['vllm/*'] },
        { name: 'acme', sha256: sha('sk-acme'), models: ['wandb-artifact:///acme/*', 'vllm/*'] },
        { name: 'smart-only', sha256: sha('sk-smart'), models: ['smart'] },
        { name: 'smart-and-cheap', sha256: sha('sk-both'), models: ['smart', 'cheap'] },
        { name: 'everything', sha256: sha('sk-all') },
      ]),
    );
    running = await startApp({ API_KEYS: undefined, API_KEYS_FILE: keys, CONFIG_FILE: config });
    url = `${running.url}/v1/chat/completions`;
  });

  afterAll(async () => {
    await running?.close();
    await Promise.all([vllm.stop(), failing.stop(), spare.stop()]);
  });

  it("refuses a wildcard name that reaches another tenant's trained checkpoint, and serves the base model through it", async () => {
    // acme loads its checkpoint the intended way.
    expect((await post(url, ask('wandb-artifact:///acme/proj/bot:step1'), as('sk-acme'))).status).toBe(200);
    expect(vllm.loaded.has('acme/proj/bot:step1')).toBe(true);
    const before = vllm.calls('chat/completions').length;

    const r = await post(url, ask('vllm/acme/proj/bot:step1'), as('sk-wildcard'));
    expect(r.status).toBe(403);
    expect((r.json as any).error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed' });
    expect((r.json as any).error.message).toContain('wandb-artifact:///acme/proj/bot:step1');
    // Not loaded or not, a checkpoint name is refused the same way, and nothing reached vLLM.
    expect((await post(url, ask('vllm/other/proj/bot:latest'), as('sk-wildcard'))).status).toBe(403);
    expect(vllm.calls('chat/completions')).toHaveLength(before);

    expect((await post(url, ask('vllm/Qwen/Qwen3-8B'), as('sk-wildcard'))).status).toBe(200);
    // A key allowed the checkpoint reaches it either way; a key with no list reaches everything.
    expect((await post(url, ask('vllm/acme/proj/bot:step1'), as('sk-acme'))).status).toBe(200);
    expect((await post(url, ask('vllm/acme/proj/bot:step1'), as('sk-all'))).status).toBe(200);
  });

  it('passes over a fallback the key may not use', async () => {
    const r = await post(url, ask('smart'), as('sk-smart'));
    expect(r.status).toBe(502);
    expect(spare.requests).toHaveLength(0);

    const allowed = await post(url, ask('smart'), as('sk-both'));
    expect(allowed.status).toBe(200);
    expect((allowed.json as any).model).toBe('smart');
    expect(spare.requests).toHaveLength(1);
  });
});
