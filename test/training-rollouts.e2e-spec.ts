import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { KEY, post, sseData, startApp, type RunningApp } from './support/app.js';
import { writeConfig } from './support/config-file.js';
import { MockUpstream, reply, sleep, type RecordedRequest } from './support/mock-upstream.js';
import { testRedisUrl } from './support/redis.js';
import { RolloutCheckError, runRollout, type RolloutOptions, type Trajectory } from './support/rollout-client.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';
import { IM_END, VllmRolloutMock } from './support/vllm-rollout-mock.js';

// Issue #19: a training loop played through the service against a vLLM-accurate mock.
const ART = 'wandb-artifact:///';
const TTL_MS = 300;
const messages = [{ role: 'user', content: 'Sort these words: pear apple fig' }];
const sha = (key: string) => createHash('sha256').update(key).digest('hex');

/** Every byte each upstream request was answered with, by request. */
function recordAnswers(mock: MockUpstream): Map<RecordedRequest, string> {
  const answers = new Map<RecordedRequest, string>();
  const inner = mock.handler;
  mock.handler = (req, res: ServerResponse) => {
    let out = '';
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) out += chunk.toString();
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      answers.set(req, out);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
    return inner(req, res);
  };
  return answers;
}

/** What failed a rollout (the client check's name), or 'passed'. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'passed',
    (err: unknown) =>
      err instanceof RolloutCheckError
        ? `${err.check}${err.check === 'http-status' ? ` ${(err.detail as { status: number }).status}` : ''}`
        : `threw ${String(err)}`,
  );

describe('training rollouts through the service, against vLLM', () => {
  const vllm = new VllmRolloutMock();
  const registry = new MockUpstream();
  const answers = recordAnswers(vllm);
  /** The registry's answers, by `entity/project/name`. */
  const published = new Map<string, string>();
  const root = mkdtempSync(join(tmpdir(), 'checkpoints-'));
  let running: RunningApp;
  let base: string;
  const step = (name: string, version: string) => mkdirSync(join(root, 'acme', 'agents', name, version), { recursive: true });
  const rollout = (model: string, extra: Record<string, unknown> = {}, options: RolloutOptions = {}, key = KEY) =>
    runRollout(base, key, { model, messages, n: 2, seed: 11, ...extra }, { matchChoicesBy: 'index', ...options });
  const chatBodies = () => vllm.bodies('chat/completions');
  const loads = () => vllm.bodies('load_lora_adapter').map((b) => b.lora_name);

  beforeAll(async () => {
    await Promise.all([vllm.start(), registry.start()]);
    vllm.pathExists = (path) => existsSync(path);
    registry.handler = (req, res) => {
      const name = decodeURIComponent(req.url.replace(/^\/resolve\//, ''));
      const version = published.get(name);
      return version ? reply(res, 200, { version }) : reply(res, 404, { detail: 'no such checkpoint' });
    };
    const keys = join(mkdtempSync(join(tmpdir(), 'rollout-keys-')), 'keys.yaml');
    const run = randomUUID().slice(0, 8);
    writeFileSync(
      keys,
      stringify([KEY, 'sk-tpm-fresh', 'sk-tpm-used'].map((k) => ({ name: `${k}-${run}`, sha256: sha(k), tpm: k === KEY ? undefined : 1_000_000 }))),
    );
    const config = writeConfig(`
providers:
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    maxRetries: 0
    adapters:
      path: ${root}/{entity}/{project}/{name}/{version}
      maxLoaded: 2
      resolve: { directory: ${root}, ttlMs: ${TTL_MS} }
  vllm-registry:
    type: openai
    baseURL: ${vllm.baseURL}
    maxRetries: 0
    adapters:
      path: ${root}/{entity}/{project}/{name}/{version}
      maxLoaded: 4
      resolve: { http: "${registry.baseURL.replace(/\/v1$/, '')}/resolve/{entity}/{project}/{name}", ttlMs: 60000 }
  vllm-bare:
    type: openai
    baseURL: ${vllm.baseURL}
    training: { returnTokenIds: false, includeUsage: false }
  echo:
    type: echo
models:
  - name: "${ART}*"
    provider: vllm
    adapter: true
  - name: "registry:///*"
    provider: vllm-registry
    adapter: true
  - name: base
    provider: vllm
    model: ${vllm.baseModel}
  - name: base-trainable
    provider: vllm
    model: ${vllm.baseModel}
    trainable: true
  - name: bare-trainable
    provider: vllm-bare
    model: ${vllm.baseModel}
    trainable: true
  - name: echo-rl
    provider: echo
    trainable: true
`);
    running = await startApp({ API_KEYS: undefined, API_KEYS_FILE: keys, REDIS_URL: undefined, CONFIG_FILE: config });
    base = `${running.url}/v1`;
  });
  afterAll(async () => {
    await running?.close();
    await Promise.all([vllm.stop(), registry.stop()]);
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    vllm.reset();
    registry.reset();
    vllm.faults = {};
    vllm.streamGapMs = 0;
  });

  /** The checks a trainer makes, and that the tokens spell the text. */
  function expectTrainable(t: Trajectory, n = 2) {
    expect(t.choices.map((c) => c.index)).toEqual([...Array(n).keys()]);
    for (const c of t.choices) {
      expect(c.tokenIdsFrom).toBe('token_ids');
      expect(c.logprobs).toHaveLength(c.tokenIds.length);
      expect(c.tokenIds.at(-1)).toBe(IM_END);
      expect(vllm.tokenizer.decode(c.tokenIds)).toBe(c.content);
    }
    expect(t.promptTokenIds).toEqual(vllm.promptTokenIds(messages));
  }

  describe('a trainable route asks vLLM for what training needs and passes its answer back byte for byte', () => {
    beforeAll(() => step('bot', 'step1'));

    it.each([false, true])(
      'n=2 (stream %s), a client that asked for no logprobs: every choice has logprobs and token ids summing to usage.completion_tokens',
      async (stream) => {
        const t = await rollout(`${ART}acme/agents/bot`, stream ? { stream_options: { include_usage: true } } : {}, { stream });
        expectTrainable(t);
        expect(t.usage!.completion_tokens).toBe(t.choices[0].tokenIds.length + t.choices[1].tokenIds.length);
        expect(t.model).toBe(`${ART}acme/agents/bot`);
        expect(t.headers.get('x-checkpoint-version')).toBe('step1');
        const [sent] = chatBodies();
        expect(sent).toMatchObject({
          model: 'acme/agents/bot:step1',
          logprobs: true,
          top_logprobs: 0,
          return_tokens_as_token_ids: true,
          return_token_ids: true,
        });
        expect(sent.stream_options).toEqual(stream ? { include_usage: true } : undefined);
      },
    );

    it("relays vLLM's bytes as they are (model name aside), streamed and not; a usage chunk the client did not ask for is left out", async () => {
      const model = `${ART}acme/agents/bot:step1`;
      const rewrite = (text: string) => text.replaceAll('"model":"acme/agents/bot:step1"', `"model":${JSON.stringify(model)}`);
      const plain = await post(`${base}/chat/completions`, { model, messages, n: 2, seed: 3, top_logprobs: 2, logprobs: true });
      expect(plain.text).toBe(rewrite(answers.get(vllm.requests.at(-1)!)!));
      expect(plain.json.choices[0].logprobs.content[0].top_logprobs).toHaveLength(2);

      const streamed = await post(`${base}/chat/completions`, { model, messages, n: 2, seed: 3, stream: true });
      const upstream = answers.get(vllm.requests.at(-1)!)!;
      const frames = upstream.split('\n\n').filter(Boolean);
      expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
      // Every frame but the usage chunk vLLM was asked for on the client's behalf.
      expect(streamed.text).toBe(rewrite([...frames.slice(0, -2), frames.at(-1)].map((f) => `${f}\n\n`).join('')));
      expect(sseData(streamed.text).at(-1)).toBe('[DONE]');
    });

    it("keeps the client's top_logprobs, sends 0 for its null (vLLM would give no logprobs), overrides logprobs: false; top_logprobs is a list in every entry", async () => {
      for (const [asked, sent] of [
        [3, 3],
        [null, 0],
        [undefined, 0],
      ] as const) {
        vllm.reset();
        const t = await rollout(`${ART}acme/agents/bot`, { logprobs: false, top_logprobs: asked, return_token_ids: false });
        expect(chatBodies()[0]).toMatchObject({ logprobs: true, top_logprobs: sent, return_token_ids: true });
        for (const entry of (t.raw as any).choices[0].logprobs.content) expect(entry.top_logprobs).toHaveLength(sent);
      }
    });

    it("a route that is not trainable forwards the client's body untouched; a trainable base-model route is trainable too", async () => {
      const body = JSON.stringify({ model: 'base', messages, n: 2, seed: 5 });
      await post(`${base}/chat/completions`, body);
      expect(vllm.requests[0].json).toEqual({ ...JSON.parse(body), model: vllm.baseModel });
      expect(await outcome(rollout('base'))).toBe('logprobs-missing');
      const t = await rollout('base-trainable', {}, { stream: true });
      expectTrainable(t);
      expect(t.headers.get('x-checkpoint-version')).toBeNull();
    });

    it('a provider can be spared fields it does not know (training: returnTokenIds, includeUsage off)', async () => {
      const t = await rollout('bare-trainable', { stream_options: { include_usage: false } }, { stream: true, requirePromptTokenIds: false });
      const [sent] = chatBodies();
      expect(sent).toMatchObject({ logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, stream_options: { include_usage: false } });
      expect(sent.return_token_ids).toBeUndefined();
      expect(t.choices.map((c) => c.tokenIdsFrom)).toEqual(['token_id:', 'token_id:']);
    });

    it.each([false, true])('a trainable echo route (stream %s): the same rollout checks pass with no model behind it', async (stream) => {
      const t = await rollout('echo-rl', stream ? { stream_options: { include_usage: true } } : {}, { stream });
      expect(t.choices.map((c) => [c.index, c.tokenIdsFrom, c.logprobs.length === c.tokenIds.length])).toEqual([
        [0, 'token_ids', true],
        [1, 'token_ids', true],
      ]);
      expect(t.usage!.completion_tokens).toBe(t.choices[0].tokenIds.length + t.choices[1].tokenIds.length);
    });

    it("accepts the two-slash form the platform's docs also write; the reply names what the client sent", async () => {
      const t = await rollout('wandb-artifact://acme/agents/bot', {}, { stream: true });
      expectTrainable(t);
      expect(t.model).toBe('wandb-artifact://acme/agents/bot');
      expect(t.headers.get('x-checkpoint-version')).toBe('step1');
    });

    it("settles a key's tpm with the upstream's usage, never an estimate, streamed without a usage chunk and not", async () => {
      const body = { model: `${ART}acme/agents/bot:step1`, messages, n: 2, seed: 9, max_tokens: 50 };
      const remaining = async (key: string) =>
        Number(
          (await post(`${base}/chat/completions`, body, { authorization: `Bearer ${key}`, 'content-type': 'application/json' })).headers.get(
            'x-ratelimit-remaining-tokens',
          ),
        );
      // What the same request reserves from a fresh budget.
      const reserved = 1_000_000 - (await remaining('sk-tpm-fresh'));
      let used = 0;
      for (const stream of [true, false]) {
        const t = await rollout(body.model, { seed: 21 }, { stream }, 'sk-tpm-used');
        const completion = t.choices.reduce((s, c) => s + c.tokenIds.length, 0);
        if (stream) expect(t.usage).toBeNull();
        else expect(t.usage).toMatchObject({ completion_tokens: completion });
        used += t.promptTokenIds!.length + completion;
      }
      await sleep(50);
      expect(1_000_000 - (await remaining('sk-tpm-used'))).toBe(used + reserved);
    });
  });

  it('a new step<N> is served once the TTL passes, while a request in flight finishes on the old one, which the LRU unloads later', async () => {
    step('loop', 'step1');
    const name = `${ART}acme/agents/loop`;
    expect((await rollout(name)).headers.get('x-checkpoint-version')).toBe('step1');

    const release = vllm.holdStreams();
    const inFlight = rollout(name, { stream_options: { include_usage: true } }, { stream: true });
    while (chatBodies().length < 2) await sleep(5);

    step('loop', 'step2');
    await sleep(TTL_MS + 50);
    const second = await rollout(name);
    expectTrainable(second);
    expect(second.headers.get('x-checkpoint-version')).toBe('step2');

    step('loop', 'step3');
    await sleep(TTL_MS + 50);
    expect((await rollout(name)).headers.get('x-checkpoint-version')).toBe('step3');
    // Two slots: step3 took step2's, the least recently used idle one; step1 is in use.
    expect([...vllm.loaded.keys()].filter((n) => n.includes('/loop:')).sort()).toEqual(['acme/agents/loop:step1', 'acme/agents/loop:step3']);

    release();
    const old = await inFlight;
    expectTrainable(old);
    expect(old.headers.get('x-checkpoint-version')).toBe('step1');
    expect(old.usage!.completion_tokens).toBe(old.choices[0].tokenIds.length + old.choices[1].tokenIds.length);

    step('loop', 'step4');
    await sleep(TTL_MS + 50);
    expect((await rollout(name)).headers.get('x-checkpoint-version')).toBe('step4');
    expect([...vllm.loaded.keys()].filter((n) => n.includes('/loop:')).sort()).toEqual(['acme/agents/loop:step3', 'acme/agents/loop:step4']);
    expect(loads()).toEqual(['acme/agents/loop:step1', 'acme/agents/loop:step2', 'acme/agents/loop:step3', 'acme/agents/loop:step4']);
  });

  it('follows a `latest` link over the highest step', async () => {
    for (const v of ['step1', 'step2', 'step3']) step('linked', v);
    symlinkSync('step2', join(root, 'acme', 'agents', 'linked', 'latest'));
    const t = await rollout(`${ART}acme/agents/linked:latest`);
    expect(t.headers.get('x-checkpoint-version')).toBe('step2');
    expect(chatBodies()[0].model).toBe('acme/agents/linked:step2');
  });

  it('reloads an adapter the upstream forgot, transparently', async () => {
    step('forgot', 'step5');
    const name = `${ART}acme/agents/forgot`;
    await rollout(name);
    vllm.loaded.delete('acme/agents/forgot:step5');
    for (const stream of [false, true]) expectTrainable(await rollout(name, {}, { stream }));
    expect(loads()).toEqual(['acme/agents/forgot:step5', 'acme/agents/forgot:step5']);
  });

  it('asks the resolver again at once when the version it named cannot be loaded any more, and serves the one it names then', async () => {
    step('moved', 'step1');
    step('moved', 'step2');
    const name = `${ART}acme/agents/moved`;
    expect((await rollout(name)).headers.get('x-checkpoint-version')).toBe('step2');
    // step2 withdrawn within the TTL: vLLM forgets it and cannot load it again.
    rmSync(join(root, 'acme', 'agents', 'moved', 'step2'), { recursive: true });
    vllm.loaded.delete('acme/agents/moved:step2');
    const t = await rollout(name, {}, { stream: true });
    expectTrainable(t);
    expect(t.headers.get('x-checkpoint-version')).toBe('step1');
  });

  it('answers 404 model_not_found for a checkpoint with no version published', async () => {
    const r = await post(`${base}/chat/completions`, { model: `${ART}acme/agents/nothing`, messages });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining("'acme/agents/nothing'") });
    expect(vllm.requests).toHaveLength(0);
  });

  it('asks an http resolver once for many concurrent rollouts, within its TTL', async () => {
    step('reg', 'step7');
    published.set('acme/agents/reg', 'step7');
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => rollout('registry:///acme/agents/reg', { seed: i }, { stream: i % 2 === 1 })));
    for (const t of all) {
      expectTrainable(t);
      expect(t.headers.get('x-checkpoint-version')).toBe('step7');
    }
    expect(registry.requests.map((r) => r.url)).toEqual(['/resolve/acme/agents/reg']);
    expect(loads()).toEqual(['acme/agents/reg:step7']);
    const missing = await post(`${base}/chat/completions`, { model: 'registry:///acme/agents/unknown', messages });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'model_not_found']);
  });
});

describe('a trainable route on a backend that cannot give token ids', () => {
  it('is refused at start, naming the route', async () => {
    const config = writeConfig(`
providers:
  claude: { type: anthropic, apiKey: sk-ant-x }
models:
  - { name: "claude-rl", provider: claude, trainable: true }
`);
    await expect(startApp({ API_KEYS: KEY, CONFIG_FILE: config })).rejects.toThrow(
      /models\[0\]\.trainable: the trainable route 'claude-rl' is served by 'claude' \(type anthropic\)/,
    );
  });
});

const REDIS_URL = await testRedisUrl();
if (!REDIS_URL) console.warn('No Redis (REDIS_URL unset, nothing at 127.0.0.1:6379): the two-replica rollout test is skipped');

(REDIS_URL ? describe : describe.skip)('two service processes sharing Redis, in front of one vLLM', () => {
  const vllm = new VllmRolloutMock();
  const replicas: ServiceProcess[] = [];
  /** Chat requests vLLM is answering, by adapter; an unload of one of those is what must never happen. */
  const answering = new Map<string, number>();
  const unloadsInUse: string[] = [];
  const run = randomUUID().slice(0, 8);
  const ckpt = (name: string, version: string) => `${ART}acme/${run}/${name}:${version}`;
  const rolloutOn = (replica: ServiceProcess, model: string, seed: number, stream: boolean) =>
    runRollout(`${replica.url}/v1`, KEY, { model, messages, n: 2, seed }, { stream, matchChoicesBy: 'index' });
  const loadCalls = () => vllm.bodies('load_lora_adapter').map((b) => b.lora_name as string);

  beforeAll(async () => {
    await vllm.start();
    const inner = vllm.handler;
    vllm.handler = (req, res) => {
      if (req.url === '/v1/chat/completions') {
        const model = req.json?.model as string;
        answering.set(model, (answering.get(model) ?? 0) + 1);
        res.once('close', () => answering.set(model, answering.get(model)! - 1));
      }
      if (req.url === '/v1/unload_lora_adapter' && (answering.get(req.json?.lora_name) ?? 0) > 0) unloadsInUse.push(req.json.lora_name);
      return inner(req, res);
    };
    // Nothing a run before this one left for this target counts against its slots.
    const redis = new Redis(REDIS_URL!);
    const stale = await redis.keys(`gateway:lora:${vllm.baseURL}:*`);
    if (stale.length > 0) await redis.del(...stale);
    await redis.quit();
    const config = writeConfig(`
providers:
  vllm:
    type: openai
    baseURL: ${vllm.baseURL}
    adapters: { path: "/adapters/{entity}/{project}/{name}/{version}", maxLoaded: 2 }
models:
  - name: "${ART}*"
    provider: vllm
    adapter: true
`);
    replicas.push(...(await Promise.all([0, 1].map(() => spawnService({ API_KEYS: KEY, CONFIG_FILE: config, REDIS_URL })))));
    for (const r of replicas) expect(r.url).toBeDefined();
  }, 40_000);
  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await vllm.stop();
  });
  beforeEach(() => {
    vllm.reset();
    unloadsInUse.length = 0;
  });

  it('a training loop over five steps, each step rolled out on both replicas while the last one finishes: every rollout served, one load per checkpoint, no adapter unloaded in use', async () => {
    vllm.loadDelayMs = 80;
    vllm.streamGapMs = 15;
    const steps = [1, 2, 3, 4, 5].map((n) => ckpt('policy', `step${n}`));
    const phase = (model: string) => {
      const rollouts = Array.from({ length: 8 }, (_, i) => outcome(rolloutOn(replicas[i % 2], model, i, i % 4 < 2)));
      return { loaded: Promise.any(rollouts), all: Promise.all(rollouts) };
    };
    const outcomes: string[] = [];
    let previous: ReturnType<typeof phase> | undefined;
    // Step N+1 starts once step N is served and step N-1's rollouts are over: two checkpoints in use, one loading.
    for (const model of steps) {
      const current = phase(model);
      if (previous) outcomes.push(...(await previous.all));
      await current.loaded;
      previous = current;
    }
    outcomes.push(...(await previous!.all));
    expect(outcomes).toEqual(Array(40).fill('passed'));
    expect(unloadsInUse).toEqual([]);
    expect(loadCalls().sort()).toEqual(steps.map((s) => s.slice(ART.length)).sort());
    expect(vllm.peakLoaded).toBeLessThanOrEqual(3);
  });

  it('never unloads an adapter the other replica is using, even one this replica used last long ago', async () => {
    vllm.loadDelayMs = 0;
    vllm.streamGapMs = 0;
    const [a, b] = replicas;
    const [x, y, z] = ['x', 'y', 'z'].map((n) => ckpt(n, 'step1'));
    expect(await outcome(rolloutOn(a, x, 1, false))).toBe('passed');
    const release = vllm.holdStreams();
    const held = outcome(rolloutOn(b, x, 2, true));
    while (vllm.bodies('chat/completions').length < 2) await sleep(5);
    // On a, x is the least recently used and idle; b's stream still uses it.
    for (const model of [y, z]) expect(await outcome(rolloutOn(a, model, 3, false))).toBe('passed');
    release();
    expect(await held).toBe('passed');
    expect(unloadsInUse).toEqual([]);
    // (The first test's checkpoints made room first.)
    const ours = (names: string[]) => names.filter((n) => !n.includes('/policy:'));
    expect(ours(vllm.bodies('unload_lora_adapter').map((u) => u.lora_name))).toEqual([y.slice(ART.length)]);
    expect(loadCalls()).toEqual([x, y, z].map((m) => m.slice(ART.length)));
  });

  it("reloads an adapter vLLM forgot behind both replicas' backs, every rollout served", async () => {
    const model = ckpt('forgotten', 'step1');
    expect(await outcome(rolloutOn(replicas[0], model, 1, false))).toBe('passed');
    vllm.loaded.delete(model.slice(ART.length));
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => outcome(rolloutOn(replicas[i % 2], model, i, i % 2 === 0))));
    expect(outcomes).toEqual(Array(6).fill('passed'));
    expect(vllm.loaded.has(model.slice(ART.length))).toBe(true);
  });
});
