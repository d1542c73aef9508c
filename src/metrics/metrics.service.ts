import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RouterEvents } from '../providers/router-events.js';
import type { RateLimitEvents } from '../rate-limit/rate-limit.service.js';

/** How long a rendered scrape is reused: however many scrapes arrive, the text is rendered at most once per interval. */
export const SCRAPE_CACHE_MS = 1000;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What one finished chat-completion request contributes to the metrics. */
export interface RequestRecord {
  model: string;
  provider: string;
  status: number;
  stream: boolean;
  seconds: number;
  ttftSeconds?: number;
  key?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** Every Prometheus instrument of the service, in its own registry. */
@Injectable()
export class MetricsService implements RouterEvents, RateLimitEvents {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Chat-completion requests by model, provider and HTTP status',
    labelNames: ['model', 'provider', 'status'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time to the whole reply (the end of the stream)',
    labelNames: ['model', 'provider', 'stream'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({
    name: 'gateway_time_to_first_token_seconds',
    help: 'Time to the first streamed chunk (to the reply when not streamed)',
    labelNames: ['model', 'provider', 'stream'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'gateway_tokens_total',
    help: 'Tokens by model, key name and type (prompt or completion)',
    labelNames: ['model', 'key', 'type'],
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Retries of an upstream, by reason',
    labelNames: ['provider', 'reason'],
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: 'gateway_fallbacks_total',
    help: 'Fallbacks from one model to the next',
    labelNames: ['from', 'to'],
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Upstream failures by provider and kind',
    labelNames: ['provider', 'kind'],
    registers: [this.registry],
  });
  private readonly adapterLoads = new Counter({
    name: 'gateway_adapter_loads_total',
    help: 'LoRA adapters loaded',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  private readonly adapterUnloads = new Counter({
    name: 'gateway_adapter_unloads_total',
    help: 'LoRA adapters unloaded to make room',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  private readonly adapterLoadSeconds = new Histogram({
    name: 'gateway_adapter_load_duration_seconds',
    help: 'Time to load a LoRA adapter',
    labelNames: ['provider'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly adapterHits = new Counter({
    name: 'gateway_adapter_hits_total',
    help: 'Requests that found their adapter loaded, by adapter',
    labelNames: ['provider', 'adapter'],
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({ name: 'gateway_in_flight_requests', help: 'Chat-completion requests being served', registers: [this.registry] });
  private readonly streams = new Gauge({ name: 'gateway_in_flight_streams', help: 'Streams being written', registers: [this.registry] });
  private readonly storeErrors = new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Rate-limit checks the store could not answer, by the policy applied',
    labelNames: ['policy'],
    registers: [this.registry],
  });
  private readonly limitedTotal = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused by a rate limit',
    labelNames: ['dimension'],
    registers: [this.registry],
  });

  private lastScrape?: { at: number; text: Promise<string> };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The registry in Prometheus' text format, reused for SCRAPE_CACHE_MS; scrapes during a render share it. */
  scrape(): Promise<string> {
    const now = performance.now();
    if (this.lastScrape && now - this.lastScrape.at < SCRAPE_CACHE_MS) return this.lastScrape.text;
    const text = this.registry.metrics();
    const entry = { at: now, text };
    this.lastScrape = entry;
    // A failed render is not reused.
    text.catch(() => {
      if (this.lastScrape === entry) this.lastScrape = undefined;
    });
    return text;
  }

  requestStarted(): void {
    this.inFlight.inc();
  }

  streamStarted(): () => void {
    this.streams.inc();
    return () => this.streams.dec();
  }

  requestFinished(r: RequestRecord): void {
    this.inFlight.dec();
    this.requests.inc({ model: r.model, provider: r.provider, status: String(r.status) });
    const stream = String(r.stream);
    this.duration.observe({ model: r.model, provider: r.provider, stream }, r.seconds);
    if (r.ttftSeconds !== undefined) this.ttft.observe({ model: r.model, provider: r.provider, stream }, r.ttftSeconds);
    const key = r.key ?? 'anonymous';
    if (r.promptTokens) this.tokens.inc({ model: r.model, key, type: 'prompt' }, r.promptTokens);
    if (r.completionTokens) this.tokens.inc({ model: r.model, key, type: 'completion' }, r.completionTokens);
  }

  retry(provider: string, reason: string): void {
    this.retries.inc({ provider, reason });
  }

  fallback(from: string, to: string): void {
    this.fallbacks.inc({ from, to });
  }

  upstreamError(provider: string, kind: string): void {
    this.upstreamErrors.inc({ provider, kind });
  }

  adapterLoaded(provider: string, _adapter: string, seconds: number): void {
    this.adapterLoads.inc({ provider });
    this.adapterLoadSeconds.observe({ provider }, seconds);
  }

  adapterUnloaded(provider: string): void {
    this.adapterUnloads.inc({ provider });
  }

  adapterHit(provider: string, adapter: string): void {
    this.adapterHits.inc({ provider, adapter });
  }

  storeError(policy: 'allow' | 'deny'): void {
    this.storeErrors.inc({ policy });
  }

  limited(dimension: 'requests' | 'tokens'): void {
    this.limitedTotal.inc({ dimension });
  }
}
