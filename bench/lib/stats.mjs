/** Nearest-rank percentile of an unsorted list (p in 0..100); undefined for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50 / p90 / p99 / max / mean of a list, rounded to µs. */
export function summary(values) {
  if (values.length === 0) return { n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { n: sorted.length, p50: r3(at(50)), p90: r3(at(90)), p99: r3(at(99)), max: r3(sorted[sorted.length - 1]), mean: r3(mean) };
}

export const r1 = (x) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 10) / 10);
export const r2 = (x) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 100) / 100);
export const r3 = (x) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 1000) / 1000);
