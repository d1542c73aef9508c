import { authHeaders, KEY, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { sleep } from './support/mock-upstream.js';
import { MockVllm } from './support/mock-vllm.js';

const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const ART = 'wandb-artifact:///';
const METRICS_TOKEN = 'metrics-token-0123456789';
const LOAD_TIMEOUT_MS = 1_000;

/** A POST that gives up after `limitMs`: a request that never answers is a failed assertion, not a hung test. */
async function timedPost(url: string, body: unknown, limitMs = 10_000) {
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: authHeaders(), body: JSON.stringify(body), signal: AbortSignal.timeout(limitMs) });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any>, ms: performance.now() - started };
  } catch {
    return { status: 'no answer', ms: performance.now() - started };
  }
}

describe('trained checkpoints as LoRA adapters on vLLM', () => {
  const vllm = new MockVllm();
  const second = new MockVllm();
  const third = new MockVllm();
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    await Promise.all([vllm.start(), second.start(), third.start()]);
    const config = writeConfig(`
providers:
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    maxRetries: 2
    retryBackoffMs: 5
    adapters:
      path: /adapters/{entity}/{project}/{name}/{version}
      maxLoaded: 2
      loadTimeoutMs: ${LOAD_TIMEOUT_MS}
  vllm-a:
    type: openai
    baseURL: ${vllm.baseURL}
    adapters: { path: "/adapters/{entity}/{project}/{name}/{version}" }
  vllm-b:
    type: openai
    baseURL: ${second.baseURL}
    adapters: { path: "/adapters/{entity}/{project}/{name}/{version}" }
  vllm-3:
    type: openai
    baseURL: ${third.baseURL}
    adapters: { path: "/adapters/{entity}/{project}/{name}/{version}", maxLoaded: 3 }
models:
  - name: "${ART}*"
    provider: vllm
    adapter: true
  - name: "spread:///*"
    adapter: true
    targets:
      - { provider: vllm-a, weight: 1 }
      - { provider: vllm-b, weight: 1 }
  - name: "three:///*"
    provider: vllm-3
    adapter: true
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config, METRICS_TOKEN });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await running.close();
    await Promise.all([vllm.stop(), second.stop(), third.stop()]);
  });
  beforeEach(() => {
    for (const m of [vllm, second, third]) {
      m.reset();
      m.restart();
      m.paths.clear();
      m.broken.clear();
      m.loadDelayMs = 0;
      m.streamGapMs = 0;
      m.hangLoads = 0;
      m.peakLoaded = 0;
      for (const v of ['step25', 'latest', 'v3']) for (const n of ['bot', 'a', 'b', 'c', 'd', 'e', 'f']) m.paths.add(`/adapters/acme/agents/${n}/${v}`);
    }
  });

  it('loads the adapter on first use, then forwards with model = lora_name; the reply names the checkpoint asked for', async () => {
    const r = await post(url, ask(`${ART}acme/agents/bot:step25`));
    expect(r.status).toBe(200);
    expect(r.json.model).toBe(`${ART}acme/agents/bot:step25`);
    expect(vllm.calls('load_lora_adapter').map((c) => c.json)).toEqual([
      { lora_name: 'acme/agents/bot:step25', lora_path: '/adapters/acme/agents/bot/step25' },
    ]);
    expect(vllm.calls('chat/completions').map((c) => c.json.model)).toEqual(['acme/agents/bot:step25']);
    expect((await post(url, ask(`${ART}acme/agents/bot:step25`, { stream: true }))).text).toContain(`"model":"${ART}acme/agents/bot:step25"`);
    expect(vllm.calls('load_lora_adapter')).toHaveLength(1);
  });

  it('reads a name without a version as latest', async () => {
    await post(url, ask(`${ART}acme/agents/bot`));
    expect(vllm.calls('load_lora_adapter')[0].json).toEqual({ lora_name: 'acme/agents/bot:latest', lora_path: '/adapters/acme/agents/bot/latest' });
  });

  it.each(['acme/agents', 'acme/agents/bot/extra:v1', 'acme/../bot:v1', 'acme/agents/bot:v1:v2', 'acme/agents/:v1'])(
    'answers a malformed name (%s) with 404 model_not_found saying the form, calling nothing',
    async (name) => {
      const r = await post(url, ask(`${ART}${name}`));
      expect(r.status).toBe(404);
      expect(r.json.error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('<entity>/<project>/<name>[:<version>]') });
      expect(vllm.requests).toHaveLength(0);
    },
  );

  it('loads once however many first requests arrive together', async () => {
    vllm.loadDelayMs = 150;
    const replies = await Promise.all(Array.from({ length: 12 }, () => post(url, ask(`${ART}acme/agents/bot:v3`))));
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(vllm.calls('load_lora_adapter')).toHaveLength(1);
    expect(vllm.calls('chat/completions')).toHaveLength(12);
  });

  it('answers a checkpoint vLLM cannot load (no such path) with 404 naming it', async () => {
    const r = await post(url, ask(`${ART}acme/agents/missing:v9`));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining("checkpoint 'acme/agents/missing:v9'") });
    expect(vllm.calls('chat/completions')).toHaveLength(0);
  });

  it('answers a load that never answers with 504 within loadTimeoutMs, streamed or not; the next request loads afresh', async () => {
    for (const stream of [false, true]) {
      vllm.hangLoads = 1;
      const r = await timedPost(url, ask(`${ART}acme/agents/bot:v3`, { stream }));
      expect(r.status).toBe(504);
      expect(r.json?.error).toMatchObject({ code: 'upstream_timeout', message: expect.stringContaining("checkpoint 'acme/agents/bot:v3'") });
      expect(r.ms).toBeGreaterThan(LOAD_TIMEOUT_MS - 100);
      expect(r.ms).toBeLessThan(LOAD_TIMEOUT_MS + 3_000);
    }
    const next = await timedPost(url, ask(`${ART}acme/agents/bot:v3`));
    expect(next.status).toBe(200);
    // One load per request, none retried (a deadline missed is not worth a second one of the same).
    expect(vllm.calls('load_lora_adapter')).toHaveLength(3);
  });

  it('unloads no other adapter for a load that fails', async () => {
    for (const n of ['a', 'b']) expect((await post(url, ask(`${ART}acme/agents/${n}:v3`))).status).toBe(200);
    vllm.reset();
    expect((await post(url, ask(`${ART}acme/agents/missing:v9`))).status).toBe(404);
    expect(vllm.calls('unload_lora_adapter')).toHaveLength(0);
    for (const n of ['a', 'b']) expect((await post(url, ask(`${ART}acme/agents/${n}:v3`))).status).toBe(200);
    expect(vllm.calls('load_lora_adapter')).toHaveLength(1);
  });

  it('never holds more than maxLoaded adapters for concurrent first requests; the rest get 503 adapter_capacity', async () => {
    third.loadDelayMs = 600;
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const replies = await Promise.all(names.map((n) => timedPost(url, ask(`three:///acme/agents/${n}:v3`))));
    expect(third.peakLoaded).toBe(3);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused.map((r) => [r.status, r.json?.error.code, r.headers?.get('retry-after')])).toEqual(Array(3).fill([503, 'adapter_capacity', '1']));

    // Asked again one by one, each replaces an idle one: loaded first, the old one unloaded after.
    third.loadDelayMs = 0;
    for (const n of names) expect((await timedPost(url, ask(`three:///acme/agents/${n}:v3`))).status).toBe(200);
    expect(third.loaded.size).toBe(3);
    expect(third.peakLoaded).toBe(4);
  });

  it("retries a load that fails with 5xx by the provider's rules", async () => {
    vllm.failLoads = { count: 1, status: 503 };
    const r = await post(url, ask(`${ART}acme/agents/bot:v3`));
    expect(r.status).toBe(200);
    expect(vllm.calls('load_lora_adapter')).toHaveLength(2);
  });

  it('unloads the least recently used adapter beyond maxLoaded, never one with requests in flight', async () => {
    // Adapters earlier tests loaded are still loaded as far as the service knows: unload them first.
    for (const n of ['a', 'b']) await post(url, ask(`${ART}acme/agents/${n}:latest`));
    vllm.reset();
    await post(url, ask(`${ART}acme/agents/a:v3`));
    await post(url, ask(`${ART}acme/agents/b:v3`));
    await post(url, ask(`${ART}acme/agents/a:v3`)); // a is now the most recently used
    await post(url, ask(`${ART}acme/agents/c:v3`));
    // a:latest and b:latest made room for a:v3 and b:v3; then b:v3, the least recently used, for c:v3
    expect(vllm.calls('unload_lora_adapter').map((c) => c.json.lora_name)).toEqual(['acme/agents/a:latest', 'acme/agents/b:latest', 'acme/agents/b:v3']);
    expect([...vllm.loaded].filter((n) => n.endsWith(':v3')).sort()).toEqual(['acme/agents/a:v3', 'acme/agents/c:v3']);

    // c's stream holds it in flight; a is the least recently used, so a goes, c stays
    vllm.streamGapMs = 300;
    const slow = post(url, ask(`${ART}acme/agents/c:v3`, { stream: true }));
    await sleep(100);
    vllm.streamGapMs = 0;
    await post(url, ask(`${ART}acme/agents/a:v3`));
    await post(url, ask(`${ART}acme/agents/b:v3`));
    expect(vllm.calls('unload_lora_adapter').map((c) => c.json.lora_name)).not.toContain('acme/agents/c:v3');
    expect(sseData((await slow).text).at(-1)).toBe('[DONE]');
  });

  it('reloads an adapter a restarted target forgot, once, then gives up clearly', async () => {
    await post(url, ask(`${ART}acme/agents/bot:v3`));
    vllm.restart();
    const r = await post(url, ask(`${ART}acme/agents/bot:v3`));
    expect(r.status).toBe(200);
    expect(vllm.calls('load_lora_adapter')).toHaveLength(2);
    vllm.broken.add('acme/agents/bot:v3');
    vllm.restart();
    const failed = await post(url, ask(`${ART}acme/agents/bot:v3`));
    expect(failed.status).toBe(502);
    expect(failed.json.error).toMatchObject({ code: 'adapter_unavailable', message: expect.stringContaining('acme/agents/bot:v3') });
  });

  it('prefers a target that already holds the adapter', async () => {
    await post(url, ask('spread:///acme/agents/bot:v3'));
    const holder = vllm.calls('load_lora_adapter').length === 1 ? vllm : second;
    const other = holder === vllm ? second : vllm;
    for (let i = 0; i < 20; i++) expect((await post(url, ask('spread:///acme/agents/bot:v3'))).status).toBe(200);
    expect(holder.calls('chat/completions')).toHaveLength(21);
    expect(other.calls('chat/completions')).toHaveLength(0);
  });

  it('lists loaded checkpoints beside the configured names, and counts loads, unloads and hits', async () => {
    await post(url, ask(`${ART}acme/agents/bot:step25`));
    await post(url, ask(`${ART}acme/agents/bot:step25`));
    const list = (await (await fetch(`${running.url}/v1/models`, { headers: authHeaders() })).json()) as { data: { id: string; checkpoint?: boolean }[] };
    expect(list.data).toContainEqual(expect.objectContaining({ id: `${ART}*` }));
    expect(list.data).toContainEqual(expect.objectContaining({ id: `${ART}acme/agents/bot:step25`, checkpoint: true, owned_by: 'vllm' }));
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/gateway_adapter_loads_total\{provider="vllm"\} [1-9]/);
    expect(metrics).toMatch(/gateway_adapter_unloads_total\{provider="vllm"\} [1-9]/);
    expect(metrics).toMatch(/gateway_adapter_hits_total\{provider="vllm",adapter="acme\/agents\/bot:step25"\} [1-9]/);
    expect(metrics).toContain('gateway_adapter_load_duration_seconds_bucket');
  });
});
