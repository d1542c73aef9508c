import type { UpstreamTarget } from './upstream-pool.js';

/**
 * Readiness of an upstream: a GET that any HTTP answer below 500 passes (a 401 still proves the
 * server is there; a wrong key shows in the requests themselves).
 */
export async function probeUpstream(target: UpstreamTarget, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const res = await target.pool.request({ method: 'GET', path: `${target.basePath}${path}`, headers, signal });
  await res.body.dump();
  if (res.statusCode >= 500) throw new Error(`answered ${res.statusCode}`);
}
