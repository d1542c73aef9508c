import { Pool } from 'undici';

export interface UpstreamTarget {
  pool: Pool;
  /** The base URL's path without a trailing slash (e.g. `/v1`). */
  basePath: string;
}

/** One keep-alive connection pool per provider origin. */
export function createUpstreamPool(baseURL: string, connections = 256): UpstreamTarget {
  const url = new URL(baseURL);
  const pool = new Pool(url.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 300_000,
    connectTimeout: 10_000,
    // Deadlines are enforced per request (headersTimeout, then the provider's timeoutMs in Deadline).
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  return { pool, basePath: url.pathname.replace(/\/+$/, '') };
}
