/** Open handles by kind (`TCPSocketWrap`, `TCPServerWrap`, `Timeout`, …), as Node reports them. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** The kinds whose count is above the baseline (jest's own timers and pipes are in the baseline). */
export function resourcesAbove(baseline: Record<string, number>, now = activeResources(), tolerance: Record<string, number> = {}): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, n] of Object.entries(now)) {
    const over = n - (baseline[kind] ?? 0) - (tolerance[kind] ?? 0);
    if (over > 0) extra[kind] = over;
  }
  return extra;
}

/** Waits (bounded) until nothing is open beyond the baseline; returns what still is. */
export async function settleResources(
  baseline: Record<string, number>,
  tolerance: Record<string, number> = {},
  timeoutMs = 5000,
): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const extra = resourcesAbove(baseline, activeResources(), tolerance);
    if (Object.keys(extra).length === 0 || Date.now() > until) return extra;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Listeners on `process`, by event (a service that registers signal or error handlers must remove them on close). */
export function processListeners(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.eventNames()) counts[String(name)] = process.listenerCount(name);
  return counts;
}
