import type { ServerResponse } from 'node:http';
import { completion, MockUpstream, reply, streamFrames, chunk, sleep, type RecordedRequest } from './mock-upstream.js';

/**
 * A stand-in for vLLM with runtime LoRA updating: load/unload answer as vLLM does (400 for an
 * adapter already loaded or not loaded), chat completions answer 404 for a model it does not serve,
 * and `restart()` forgets every adapter.
 */
export class MockVllm extends MockUpstream {
  readonly loaded = new Set<string>();
  /** lora_paths that exist on this server's disk. */
  readonly paths = new Set<string>();
  loadDelayMs = 0;
  /** Fail the next N loads with this status. */
  failLoads: { count: number; status: number } = { count: 0, status: 503 };
  /** Adapters this server refuses to serve even once loaded (a broken checkpoint). */
  readonly broken = new Set<string>();
  streamGapMs = 0;
  /** The next N loads never answer (a stuck engine, a hung file system). */
  hangLoads = 0;
  peakLoaded = 0;

  constructor(readonly baseModel = 'Qwen/Qwen3-8B') {
    super();
    this.handler = (req, res) => this.answer(req, res);
  }

  restart(): void {
    this.loaded.clear();
  }

  calls(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url === `/v1/${path}`);
  }

  private async answer(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const vllmError = (status: number, message: string, type: string) => reply(res, status, { object: 'error', message, type, param: null, code: status });
    if (req.url === '/v1/load_lora_adapter') {
      if (this.hangLoads > 0) {
        this.hangLoads--;
        return;
      }
      await sleep(this.loadDelayMs);
      if (this.failLoads.count > 0) {
        this.failLoads.count--;
        return vllmError(this.failLoads.status, 'engine busy', 'InternalServerError');
      }
      const { lora_name: name, lora_path: path } = req.json;
      if (this.loaded.has(name)) return vllmError(400, `The lora adapter '${name}' has already been loaded.`, 'InvalidUserInput');
      if (!this.paths.has(path)) return vllmError(400, `No adapter found for ${path}`, 'InvalidUserInput');
      this.loaded.add(name);
      this.peakLoaded = Math.max(this.peakLoaded, this.loaded.size);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`Success: LoRA adapter '${name}' added successfully.`);
      return;
    }
    if (req.url === '/v1/unload_lora_adapter') {
      const name = req.json.lora_name;
      if (!this.loaded.delete(name)) return vllmError(400, `The lora adapter '${name}' cannot be found.`, 'InvalidUserInput');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`Success: LoRA adapter '${name}' removed successfully.`);
      return;
    }
    if (req.url === '/v1/chat/completions') {
      const model = req.json.model;
      if (model !== this.baseModel && (!this.loaded.has(model) || this.broken.has(model)))
        return vllmError(404, `The model \`${model}\` does not exist.`, 'NotFoundError');
      if (!req.json.stream) return reply(res, 200, completion(model, `answer from ${model}`));
      return streamFrames(
        res,
        [chunk(model, { role: 'assistant', content: '' }), chunk(model, { content: `answer from ${model}` }), chunk(model, {}, 'stop')],
        { gapMs: this.streamGapMs },
      );
    }
    if (req.url === '/v1/models') return reply(res, 200, { object: 'list', data: [{ id: this.baseModel, object: 'model' }] });
    reply(res, 404, { detail: 'Not Found' });
  }
}
