import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { writeConfig } from '../support/config-file.js';
import { clientAgent, send, type Reply } from './support/http-client.js';
import { METRICS_TOKEN } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { recordSummary } from './support/summary.js';

const KEYS = Array.from({ length: 200 }, (_, i) => `sk-tenant-${String(i).padStart(3, '0')}-0123456789abcdef`);
const MODELS = Array.from({ length: 20 }, (_, i) => `tenant-model-${i}`);
const SCRAPES = 2000;
const CONCURRENCY = 50;

/** Runs `count` calls of `task`, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/** CPU time (user + system) the process has used, in ms (Linux /proc, 100 ticks a second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

/** The built service with 200 tenant keys over 20 models, each key having asked once: a series per tenant in /metrics. */
class TenantService {
  svc!: ServiceProcess;
  readonly agent = clientAgent(CONCURRENCY);
  private readonly bystanderAgent = clientAgent(1);

  async start(env: Record<string, string>): Promise<void> {
    const config = writeConfig(`providers:\n  echo:\n    type: echo\nmodels:\n${MODELS.map((m) => `  - name: ${m}\n    provider: echo\n`).join('')}`);
    this.svc = await ServiceProcess.start({ API_KEYS: KEYS.join(','), CONFIG_FILE: config, LOG_LEVEL: 'warn', ...env });
    await pool(KEYS.length, 10, (i) => this.chat(KEYS[i], MODELS[i % MODELS.length], this.agent));
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    this.bystanderAgent.destroy();
    await this.svc?.stop();
  }

  chat(key: string, model: string, via: Agent): Promise<Reply> {
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'how long does this take' }] });
    return send(`${this.svc.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body, agent: via });
  }

  scrape(authorization?: string): Promise<Reply> {
    return send(`${this.svc.url}/metrics`, { method: 'GET', headers: authorization ? { authorization } : {}, agent: this.agent });
  }

  /** `count` scrapes at CONCURRENCY while one client's chat requests run one after another: replies, figures, chat latencies. */
  async flood(count: number, authorization: (i: number) => string | undefined) {
    const quiet: number[] = [];
    for (let i = 0; i < 50; i++) quiet.push((await this.chat(KEYS[0], MODELS[0], this.bystanderAgent)).ms);
    const pid = this.svc.child.pid!;
    const cpuBefore = cpuMs(pid);
    const started = Date.now();
    const scrapes = pool(count, CONCURRENCY, (i) => this.scrape(authorization(i)));
    const [replies, during] = await Promise.all([scrapes, this.bystander(scrapes)]);
    const seconds = (Date.now() - started) / 1000;
    const figures = {
      floodSeconds: Math.round(seconds * 10) / 10,
      scrapesPerSecond: Math.round(count / seconds),
      cpuPerScrapeUs: Math.round(((cpuMs(pid) - cpuBefore) * 1000) / count),
      chatQuietP90Ms: p90(quiet),
      chatRequests: during.length,
      chatP90Ms: p90(during),
      chatMaxMs: Math.max(...during),
    };
    return { replies, seconds, figures, during };
  }

  private async bystander(until: Promise<unknown>): Promise<number[]> {
    let done = false;
    void until.finally(() => (done = true));
    const ms: number[] = [];
    while (!done) {
      const r = await this.chat(KEYS[0], MODELS[0], this.bystanderAgent);
      expect(r.status).toBe(200);
      ms.push(r.ms);
    }
    return ms;
  }
}

describe('/metrics floods against the built service (200 tenants, 20 models)', () => {
  const tenants = new TenantService();
  afterEach(() => tenants.stop());

  it('without METRICS_TOKEN: 2,000 scrapes at concurrency 50 get 404 and no metric text, and a chat request stays fast', async () => {
    await tenants.start({});
    const { replies, figures, during } = await tenants.flood(SCRAPES, () => undefined);
    recordSummary('metrics-flood-no-token', figures);
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 404));
    expect(replies[0].json.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('METRICS_TOKEN') });
    expect(replies.filter((r) => r.text.includes('gateway_') || r.text.includes('key-'))).toEqual([]);
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(figures.chatP90Ms).toBeLessThan(500);
  });

  it('with METRICS_TOKEN: 2,000 refused and 2,000 authorised scrapes at concurrency 50 render at most once a second, and a chat request stays fast', async () => {
    await tenants.start({ METRICS_TOKEN });
    const first = await tenants.scrape(`Bearer ${METRICS_TOKEN}`);
    expect(first.text).toContain(`gateway_tokens_total{model="${MODELS[199 % MODELS.length]}",key="key-200",type="completion"}`);
    // Odd: the token; otherwise no header, or a tenant's API key.
    const { replies, seconds, figures, during } = await tenants.flood(2 * SCRAPES, (i) =>
      i % 2 ? `Bearer ${METRICS_TOKEN}` : i % 4 ? `Bearer ${KEYS[0]}` : undefined,
    );
    const refused = replies.filter((_, i) => i % 2 === 0);
    const served = replies.filter((_, i) => i % 2 === 1);
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 401));
    expect(refused.filter((r) => r.text.includes('gateway_'))).toEqual([]);
    expect(served.map((r) => r.status)).toEqual(served.map(() => 200));
    // process_cpu_seconds_total and friends change from one render to the next: distinct texts count renders.
    const renders = new Set(served.map((r) => r.text)).size;
    recordSummary('metrics-flood-token', { scrapeBytes: first.bytes, coldScrapeMs: first.ms, renders, ...figures });
    expect(renders).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(figures.chatP90Ms).toBeLessThan(500);
  });
});
