/** What the router reports as it works (metrics listen). */
export interface RouterEvents {
  retry(provider: string, reason: string): void;
  fallback(from: string, to: string): void;
  upstreamError(provider: string, kind: string): void;
  /** A LoRA adapter was loaded on a provider, taking `seconds`. */
  adapterLoaded(provider: string, adapter: string, seconds: number): void;
  adapterUnloaded(provider: string, adapter: string): void;
  /** A request found its adapter already loaded. */
  adapterHit(provider: string, adapter: string): void;
}

export const ROUTER_EVENTS = Symbol('RouterEvents');

/** A short, stable name for an error's kind (a metric label). */
export function errorKind(err: unknown): string {
  const e = err as { status?: number; code?: string | null };
  if (e?.code === 'upstream_timeout') return 'timeout';
  if (e?.code === 'upstream_unavailable') return 'connect';
  if (e?.code === 'upstream_invalid_reply') return 'invalid_reply';
  if (typeof e?.status === 'number') return e.status === 429 ? 'rate_limited' : e.status >= 500 ? '5xx' : '4xx';
  return 'other';
}
