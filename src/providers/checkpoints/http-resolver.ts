import { ApiError, UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isRetryableStatus } from '../../common/errors/upstream-error-policy.js';
import { isVersion, type Checkpoint } from '../checkpoint-name.js';
import type { VersionResolver } from './checkpoint-versions.js';

const RESOLVE_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Asks a model registry: `GET <template>` with {entity}, {project} and {name} filled in answers
 * `{"version": "step42"}`; a 404 means there is no such checkpoint.
 */
export class HttpResolver implements VersionResolver {
  constructor(
    /** The provider it resolves for (named in errors). */
    private readonly provider: string,
    private readonly template: string,
  ) {}

  async resolve(c: Checkpoint): Promise<string> {
    const url = this.template.replace(/\{(entity|project|name)\}/g, (_m, k: 'entity' | 'project' | 'name') => encodeURIComponent(c[k]));
    const failed = (status: number, what: string, retryable: boolean, code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES] = ERROR_CODES.upstreamError) =>
      new UpstreamError({
        provider: this.provider,
        status,
        message: `The checkpoint registry of '${this.provider}' ${what} for '${c.base}'.`,
        retryable,
        code,
      });
    let res: Response;
    const deadline = AbortSignal.timeout(RESOLVE_TIMEOUT_MS);
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, signal: deadline });
    } catch {
      if (deadline.aborted) throw failed(504, `did not answer within ${RESOLVE_TIMEOUT_MS} ms`, false, ERROR_CODES.upstreamTimeout);
      throw failed(502, 'could not be reached', true, ERROR_CODES.upstreamUnavailable);
    }
    // Read within MAX_ANSWER_BYTES: a registry (or a proxy before it) answering without end is cut off.
    const text = (await readCapped(res, MAX_ANSWER_BYTES).catch(() => '')) ?? '';
    if (res.status === 404)
      throw new ApiError({
        status: 404,
        message: `The checkpoint registry of '${this.provider}' knows no checkpoint '${c.base}'.`,
        code: ERROR_CODES.modelNotFound,
        param: 'model',
      });
    if (!res.ok) throw failed(502, `answered ${res.status}`, isRetryableStatus(res.status));
    let version: unknown;
    try {
      version = (JSON.parse(text) as { version?: unknown } | null)?.version;
    } catch {
      version = undefined;
    }
    if (!isVersion(version)) throw failed(502, 'answered no {"version": "<version>"}', false, ERROR_CODES.upstreamInvalidReply);
    return version;
  }
}

/** The body's text, or undefined once it passes `max` bytes (declared or read); the rest is not read. */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the rest of the body.
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += part.length;
    if (size > max) return undefined;
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
}
