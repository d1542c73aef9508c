/** A duration as OpenAI writes it in `x-ratelimit-reset-*`: `20ms`, `1s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** OpenAI's rate-limit headers for one dimension (`requests` or `tokens`). */
export function rateLimitHeaders(dimension: 'requests' | 'tokens', limit: number, remaining: number, resetMs: number): Record<string, string> {
  return {
    [`x-ratelimit-limit-${dimension}`]: String(limit),
    [`x-ratelimit-remaining-${dimension}`]: String(Math.max(0, remaining)),
    [`x-ratelimit-reset-${dimension}`]: formatResetDuration(resetMs),
  };
}
