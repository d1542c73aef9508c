import type { ResolvedTarget } from './model-registry.js';

interface Health {
  failures: number;
  coolUntil: number;
}

/** Consecutive failures per provider; one that keeps failing is passed over for a while. */
export class TargetHealth {
  private readonly byProvider = new Map<string, Health>();

  constructor(private readonly now: () => number = Date.now) {}

  succeeded(target: ResolvedTarget): void {
    this.byProvider.delete(target.provider.name);
  }

  failed(target: ResolvedTarget): void {
    const h = this.byProvider.get(target.provider.name) ?? { failures: 0, coolUntil: 0 };
    h.failures++;
    if (h.failures >= target.provider.policy.cooldownAfterFailures) h.coolUntil = this.now() + target.provider.policy.cooldownMs;
    this.byProvider.set(target.provider.name, h);
  }

  isCooling(target: ResolvedTarget): boolean {
    const h = this.byProvider.get(target.provider.name);
    return h !== undefined && h.coolUntil > this.now();
  }

  /**
   * Picks a target by weight among those not cooling down and not yet tried this round
   * (falling back to all of them when none is left).
   */
  pick(targets: readonly ResolvedTarget[], tried: ReadonlySet<ResolvedTarget>, random: () => number = Math.random): ResolvedTarget {
    if (targets.length === 1) return targets[0];
    // A target that already holds the model (a loaded adapter) wins while it is healthy.
    const holding = targets.filter((t) => t.adapter && !tried.has(t) && !this.isCooling(t) && t.provider.backend.holds?.(t.model));
    if (holding.length > 0) targets = holding;
    const fresh = targets.filter((t) => !tried.has(t) && !this.isCooling(t) && t.weight > 0);
    const pool = fresh.length > 0 ? fresh : targets.filter((t) => !this.isCooling(t) && t.weight > 0);
    const candidates = pool.length > 0 ? pool : targets;
    const total = candidates.reduce((s, t) => s + t.weight, 0);
    if (total <= 0) return candidates[0];
    let r = random() * total;
    for (const t of candidates) {
      r -= t.weight;
      if (r < 0) return t;
    }
    return candidates[candidates.length - 1];
  }
}
