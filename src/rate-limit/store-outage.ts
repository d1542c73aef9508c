import type { Logger } from '@nestjs/common';

/**
 * Whether the rate-limit store is failing: the first failure of an outage is logged (warn), and so
 * is its end (info); the failures in between are only counted, by the caller's metric.
 */
export class StoreOutage {
  private failures = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'log'>,
    private readonly policy: string,
  ) {}

  failed(err: unknown): void {
    if (this.failures++ > 0) return;
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.warn(
      `Rate-limit store unavailable (${reason}); policy: ${this.policy}. Further failures are counted in gateway_rate_limit_store_errors_total, not logged, until it answers again.`,
    );
  }

  answered(): void {
    if (this.failures === 0) return;
    this.logger.log(`Rate-limit store answers again (${this.failures} failed operations while it was unavailable)`);
    this.failures = 0;
  }
}
