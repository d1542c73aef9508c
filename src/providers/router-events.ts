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
