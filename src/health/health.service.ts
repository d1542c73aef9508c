import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { appConfig } from '../config/app.config.js';
import { ModelRegistry } from '../providers/model-registry.js';
import { REDIS_CLIENT } from '../rate-limit/rate-limit.service.js';
import { ShutdownState } from './shutdown.state.js';

export interface CheckResult {
  status: 'up' | 'down';
  error?: string;
  latencyMs?: number;
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckResult>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Readiness: every configured provider reachable, Redis if configured, local models loaded; cached briefly. */
@Injectable()
export class HealthService {
  private cached?: { at: number; result: Promise<Readiness> };

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
    @Inject(ShutdownState) private readonly shutdown: ShutdownState,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  async readiness(): Promise<Readiness> {
    if (this.shutdown.isDraining) return { status: 'unavailable', checks: { shutdown: { status: 'down', error: 'shutting down' } } };
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.config.HEALTH_CACHE_MS) this.cached = { at: now, result: this.runChecks() };
    return this.cached.result;
  }

  private async runChecks(): Promise<Readiness> {
    const probes: [string, (signal: AbortSignal) => Promise<unknown>][] = [];
    for (const [name, p] of this.registry.providers()) if (p.backend.check) probes.push([`provider:${name}`, (s) => p.backend.check!(s)]);
    const redis = this.redis;
    if (redis) probes.push(['redis', () => redis.ping()]);
    const results = await Promise.all(probes.map(async ([name, probe]) => [name, await timed(probe)] as const));
    const checks = Object.fromEntries(results);
    return { status: results.every(([, r]) => r.status === 'up') ? 'ok' : 'unavailable', checks };
  }
}

async function timed(probe: (signal: AbortSignal) => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    await Promise.race([
      probe(signal),
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)))),
    ]);
    return { status: 'up', latencyMs: Date.now() - started };
  } catch (err) {
    const e = err as { message?: string; code?: string; cause?: { code?: string } };
    return { status: 'down', error: e.cause?.code ?? e.code ?? e.message ?? 'unreachable', latencyMs: Date.now() - started };
  }
}
