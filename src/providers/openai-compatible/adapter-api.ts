import { ApiError, UpstreamError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isRetryableStatus } from '../../common/errors/upstream-error-policy.js';
import { adapterPath, type Checkpoint } from '../checkpoint-name.js';
import { readText } from '../http/read-body.js';
import { upstreamErrorFromResponse } from '../http/upstream-errors.js';
import type { UpstreamTarget } from '../http/upstream-pool.js';
import type { AdapterConfig } from './openai-compatible.config.js';

interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** vLLM's runtime LoRA API on one target: `load_lora_adapter` and `unload_lora_adapter`, each under its own deadline. */
export class AdapterApi {
  constructor(
    private readonly provider: string,
    private readonly target: UpstreamTarget,
    private readonly headers: Record<string, string>,
    private readonly settings: AdapterConfig,
    private readonly secrets: readonly string[] = [],
  ) {}

  /**
   * Loads a checkpoint under its id. An adapter already loaded counts as loaded; a checkpoint the
   * target cannot load is a 404 naming it; a failure worth another try stays an UpstreamError.
   */
  async load(c: Checkpoint): Promise<void> {
    const res = await this.call('/load_lora_adapter', { lora_name: c.id, lora_path: adapterPath(this.settings.path, c) }, `load the checkpoint '${c.id}'`);
    if (res.status < 400 || (res.status === 400 && /already (been )?loaded/i.test(res.text))) return;
    const err = upstreamErrorFromResponse(this.provider, res.status, res.headers, res.text, this.secrets);
    if (!isRetryableStatus(res.status)) {
      throw new ApiError({
        status: 404,
        message: `The checkpoint '${c.id}' could not be loaded: ${err.message}`,
        code: ERROR_CODES.modelNotFound,
        param: 'model',
      });
    }
    throw err;
  }

  /** Unloads an adapter; a failure leaves it loaded upstream, which is only memory there, so it is not an error. */
  async unload(id: string): Promise<void> {
    await this.call('/unload_lora_adapter', { lora_name: id }, `unload the adapter '${id}'`).catch(() => undefined);
  }

  /** One management call under its own deadline: a load many requests wait for must not hang them all. */
  private async call(path: string, body: unknown, what: string): Promise<CallResult> {
    const ms = this.settings.loadTimeoutMs;
    const deadline = AbortSignal.timeout(ms);
    try {
      const res = await this.target.pool.request({
        method: 'POST',
        path: `${this.target.basePath}${path}`,
        headers: this.headers,
        body: JSON.stringify(body),
        signal: deadline,
      });
      return { status: res.statusCode, headers: res.headers, text: (await readText(res.body, 64 * 1024)).text };
    } catch (err) {
      if (deadline.aborted)
        throw new UpstreamError({
          provider: this.provider,
          status: 504,
          message: `The upstream '${this.provider}' did not ${what} within ${ms} ms.`,
          retryable: false,
          code: ERROR_CODES.upstreamTimeout,
        });
      const code = (err as { code?: string }).code ?? 'error';
      const message = `The upstream '${this.provider}' could not be reached to manage adapters (${code}).`;
      throw new UpstreamError({ provider: this.provider, status: 502, message, retryable: true, code: ERROR_CODES.upstreamUnavailable });
    }
  }
}
