import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { MockUpstream, reply, sleep, type RecordedRequest } from './mock-upstream.js';

/*
 * A vLLM OpenAI-compatible server for training-rollout tests: every reply has the shape vLLM's own code
 * gives it, and its token ids, logprobs and usage agree with its text.
 *
 * Read from vllm-project/vllm main as stored by the code index (the layout after entrypoints/openai/ was
 * split into chat_completion/, engine/, models/ and serve/lora/), file @ blob commit:
 *   vllm/entrypoints/openai/chat_completion/protocol.py   @ d5dba2d7b0ab9b98096560c69db7126b54b14d79
 *   vllm/entrypoints/openai/chat_completion/serving.py    @ 5e918640d7b65820db5beaa98c2a99925bff7c17
 *   vllm/entrypoints/openai/chat_completion/api_router.py @ c0bc59655a4068c08621bcac8ab67b39cd2ec173
 *   vllm/entrypoints/openai/engine/protocol.py            @ d7e52523a55cfd60207c99d9f3b7ed527d2115b7
 *   vllm/entrypoints/openai/engine/serving.py             @ 619e4b31da7791a6ea4f6724fe45b54556b5a8fa
 *   vllm/entrypoints/openai/models/serving.py             @ 4fe4500477d5bbf2c2a467adacc60f7d215cd655
 *   vllm/entrypoints/serve/lora/api_router.py             @ 27873cab97e41ef32a6a8bcf83fa475a23e6e921
 * Non-streamed replies are `model_dump()` (every field, nulls included); stream chunks are
 * `model_dump_json(exclude_unset=True)` (only the fields the code set, so `token_ids: null` appears in
 * content chunks but not in role chunks), the usage chunk adds `exclude_none`. Key order follows the
 * pydantic field order. Not modelled: tool calls, reasoning parsers, beam search, prompt_logprobs, echo.
 * Validation messages (400s from pydantic) are approximate; their type, param and code are vLLM's.
 */

export const IM_START = 151644;
/** The end-of-turn token, generated last when a choice stops (`finish_reason: "stop"`). */
export const IM_END = 151645;
const SPECIALS: Record<string, number> = { '<|endoftext|>': 151643, '<|im_start|>': IM_START, '<|im_end|>': IM_END };
const WORDS = [
  'the',
  'policy',
  'answers',
  'with',
  'a',
  'few',
  'plain',
  'words',
  'about',
  'reward',
  'step',
  'token',
  'value',
  'gradient',
  'sample',
  'batch',
  'trained',
  'checkpoint',
  'rollout',
  'model',
];
const PIECE = /<\|[a-z_]+\|>|\n| ?(?:(?!<\|[a-z_]+\|>)\S)+|[^\S\n]/g;

/** Words with their leading space, newlines and ChatML specials as tokens; ids fixed for the generation vocabulary, assigned on first sight for any other piece. */
export class WordTokenizer {
  private readonly idOf = new Map<string, number>();
  private readonly pieceOf = new Map<number, string>();
  private next = 1000;

  constructor() {
    for (const [piece, id] of Object.entries(SPECIALS)) this.set(piece, id);
    this.id('\n');
    for (const w of WORDS) [w, ` ${w}`].forEach((p) => this.id(p));
  }

  id(piece: string): number {
    return this.idOf.get(piece) ?? this.set(piece, this.next++);
  }

  piece(id: number): string {
    const p = this.pieceOf.get(id);
    if (p === undefined) throw new Error(`no token ${id}`);
    return p;
  }

  encode(text: string): number[] {
    return (text.match(PIECE) ?? []).map((p) => this.id(p));
  }

  /** Text as vLLM writes it into `content`: special tokens skipped. */
  decode(ids: readonly number[]): string {
    return ids.map((id) => (isSpecial(id) ? '' : this.piece(id))).join('');
  }

  private set(piece: string, id: number): number {
    this.idOf.set(piece, id);
    this.pieceOf.set(id, piece);
    return id;
  }
}

const isSpecial = (id: number) => Object.values(SPECIALS).includes(id);
const bytes = (s: string) => [...Buffer.from(s, 'utf8')];

/** One generated token: its id, its text in `content`, its logprob, and the runners-up (sampled first, as vLLM's dict order gives). */
interface Step {
  id: number;
  text: string;
  logprob: number;
  ranked: { id: number; logprob: number }[];
}

interface Generated {
  steps: Step[];
  finish: 'stop' | 'length';
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Faults the mock can produce on demand, so a reader's checks can be shown to fail. */
export interface VllmFaults {
  /** Every choice answers `logprobs: null` even when asked for them. */
  dropLogprobs?: boolean;
  /** Every choice answers `token_ids: null` and `prompt_token_ids` is null even when asked for them. */
  dropTokenIds?: boolean;
  /** Added to `usage.completion_tokens` (and `total_tokens`). */
  usageDelta?: number;
  /** How a stream ends: vLLM's `data: [DONE]`, a clean end without it, or the connection closed mid-body. */
  streamEnd?: 'done' | 'no-done' | 'destroy';
}

export interface VllmRolloutMockOptions {
  baseModel?: string;
  /** vLLM's `--api-key`: `/v1` routes answer 401 `{"error":"Unauthorized"}` without it. */
  apiKey?: string;
  /** vLLM's server flag `--return-tokens-as-token-ids`, used when a request leaves the field unset. */
  returnTokensAsTokenIds?: boolean;
  maxModelLen?: number;
}

/** A vLLM server with runtime LoRA updating (`VLLM_ALLOW_RUNTIME_LORA_UPDATING=1`) and a deterministic model. */
export class VllmRolloutMock extends MockUpstream {
  readonly tokenizer = new WordTokenizer();
  readonly baseModel: string;
  /** Adapters held, by name: the `lora_path` each was loaded from. */
  readonly loaded = new Map<string, string>();
  loads = 0;
  unloads = 0;
  peakLoaded = 0;
  /** The engine's `add_lora` time: a load answers after this long. */
  loadDelayMs = 0;
  /** Whether an adapter exists at a `lora_path` (vLLM answers 404 NotFoundError for one that does not). */
  pathExists: (path: string) => boolean = () => true;
  /** Pause between engine steps of a stream (one token per choice a step). */
  streamGapMs = 0;
  /** Words in a reply; unset, 3 to 8 drawn from the seed. */
  replyWords?: number;
  faults: VllmFaults = {};
  private readonly options: Required<Omit<VllmRolloutMockOptions, 'apiKey'>> & { apiKey?: string };
  private readonly locks = new Map<string, Promise<unknown>>();
  private gate?: Promise<void>;
  private unseeded = 1;

  constructor(options: VllmRolloutMockOptions = {}) {
    super();
    this.options = { baseModel: 'Qwen/Qwen3-8B', returnTokensAsTokenIds: false, maxModelLen: 40960, ...options };
    this.baseModel = this.options.baseModel;
    this.handler = (req, res) => this.route(req, res);
  }

  /** Bodies the server received on one route, e.g. `bodies('chat/completions')`. */
  bodies(path: string): any[] {
    return this.requests.filter((r) => r.url === `/v1/${path}`).map((r) => r.json);
  }

  /** Streams started after this stop after their role chunks until the returned function is called. */
  holdStreams(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** The prompt vLLM would build from these messages (ChatML, generation prompt added), as token ids. */
  promptTokenIds(messages: any[], addGenerationPrompt = true): number[] {
    const text = messages.map((m) => `<|im_start|>${m.role}\n${contentText(m.content)}<|im_end|>\n`).join('');
    return this.tokenizer.encode(addGenerationPrompt ? `${text}<|im_start|>assistant\n` : text);
  }

  private async route(req: RecordedRequest, res: ServerResponse): Promise<void> {
    if (this.options.apiKey && req.url.startsWith('/v1') && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return reply(res, 401, { error: 'Unauthorized' });
    }
    if (req.method === 'GET' && req.url === '/health') return void res.writeHead(200).end();
    if (req.method === 'GET' && req.url === '/v1/models') return reply(res, 200, this.modelList());
    if (req.method === 'POST' && req.url === '/v1/load_lora_adapter') return this.load(req.json ?? {}, res);
    if (req.method === 'POST' && req.url === '/v1/unload_lora_adapter') return this.unload(req.json ?? {}, res);
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return this.chat(req, res);
    reply(res, 404, { detail: 'Not Found' });
  }

  private modelList() {
    const created = now();
    const permission = () => [
      {
        id: `modelperm-${uuid()}`,
        object: 'model_permission',
        created,
        allow_create_engine: false,
        allow_sampling: true,
        allow_logprobs: true,
        allow_search_indices: false,
        allow_view: true,
        allow_fine_tuning: false,
        organization: '*',
        group: null,
        is_blocking: false,
      },
    ];
    const card = (id: string, root: string, parent: string | null, maxModelLen: number | null) => ({
      id,
      object: 'model',
      created,
      owned_by: 'vllm',
      root,
      parent,
      max_model_len: maxModelLen,
      permission: permission(),
    });
    return {
      object: 'list',
      data: [
        card(this.baseModel, this.baseModel, null, this.options.maxModelLen),
        ...[...this.loaded].map(([name, path]) => card(name, path, this.baseModel, null)),
      ],
    };
  }

  /** One operation at a time per adapter name, as vLLM's `lora_resolver_lock[lora_name]`. */
  private withLock<T>(name: string, run: () => Promise<T>): Promise<T> {
    const done = (this.locks.get(name) ?? Promise.resolve()).then(run, run);
    this.locks.set(
      name,
      done.catch(() => undefined),
    );
    return done;
  }

  private load(body: any, res: ServerResponse): Promise<void> {
    if (typeof body.lora_name !== 'string' || typeof body.lora_path !== 'string')
      return Promise.resolve(validationError(res, 'Field required', typeof body.lora_name !== 'string' ? 'lora_name' : 'lora_path'));
    const { lora_name: name, lora_path: path } = body;
    return this.withLock(name, async () => {
      if (!name || !path) return vllmError(res, 400, "Both 'lora_name' and 'lora_path' must be provided.", 'InvalidUserInput');
      if (!body.load_inplace && this.loaded.has(name)) {
        return vllmError(
          res,
          400,
          `The lora adapter '${name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.`,
          'InvalidUserInput',
        );
      }
      await sleep(this.loadDelayMs);
      if (!this.pathExists(path)) return vllmError(res, 404, `Loading lora ${name} failed: No adapter found for ${path}`, 'NotFoundError');
      this.loaded.set(name, path);
      this.loads++;
      this.peakLoaded = Math.max(this.peakLoaded, this.loaded.size);
      plainText(res, `Success: LoRA adapter '${name}' added successfully.`);
    });
  }

  private unload(body: any, res: ServerResponse): Promise<void> {
    if (typeof body.lora_name !== 'string') return Promise.resolve(validationError(res, 'Field required', 'lora_name'));
    const name: string = body.lora_name;
    return this.withLock(name, async () => {
      if (!name) return vllmError(res, 400, "'lora_name' needs to be provided to unload a LoRA adapter.", 'InvalidUserInput');
      if (!this.loaded.delete(name)) return vllmError(res, 404, `The lora adapter '${name}' cannot be found.`, 'NotFoundError');
      this.unloads++;
      plainText(res, `Success: LoRA adapter '${name}' removed successfully.`);
    });
  }

  private async chat(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const body = req.json;
    if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) return validationError(res, 'Field required', 'messages');
    // ChatCompletionRequest's model_validator(mode="before") checks run before the model is looked up.
    if (pyTruthy(body.stream_options) && !pyTruthy(body.stream))
      return validationError(res, 'Value error, Stream options can only be defined when `stream=True`.', 'stream_options');
    const top = body.top_logprobs;
    if (typeof top === 'number' && top < 0 && top !== -1)
      return validationError(res, 'Value error, `top_logprobs` must be a positive value or -1.', 'top_logprobs');
    if (typeof top === 'number' && (top === -1 || top > 0) && !body.logprobs)
      return validationError(res, 'Value error, when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
    const model: string = body.model ?? this.baseModel;
    if (model !== this.baseModel && !this.loaded.has(model)) return vllmError(res, 404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');

    const prompt = this.promptTokenIds(body.messages, body.add_generation_prompt !== false);
    const n: number = body.n ?? 1;
    const seed: number = body.seed ?? this.unseeded++;
    const maxTokens: number = body.max_completion_tokens ?? body.max_tokens ?? this.options.maxModelLen - prompt.length;
    const generated = Array.from({ length: n }, (_, i) => this.generate(seed, i, maxTokens));
    const reqId = `chatcmpl-${String(req.headers['x-request-id'] ?? uuid())}`;
    const ask: Ask = {
      // vLLM gives logprobs only when `logprobs` is set and `top_logprobs` is not null (absent means 0).
      logprobs: !!body.logprobs && top !== null && !this.faults.dropLogprobs,
      top: typeof top === 'number' ? top : 0,
      asIds: body.return_tokens_as_token_ids ?? this.options.returnTokensAsTokenIds,
      tokenIds: !!body.return_token_ids && !this.faults.dropTokenIds,
    };
    if (!body.stream) return reply(res, 200, this.completion(reqId, model, prompt, generated, ask));
    await this.stream(res, reqId, model, prompt, generated, ask, body.stream_options);
  }

  private generate(seed: number, index: number, maxTokens: number): Generated {
    const rand = mulberry32(Math.imul(seed, 2654435761) ^ Math.imul(index + 1, 40503));
    const words = this.replyWords ?? 3 + Math.floor(rand() * 6);
    const step = (piece: string, text: string): Step => {
      const id = this.tokenizer.id(piece);
      const logprob = -round4(0.01 + rand() * 1.5);
      const others = WORDS.map((w) => (piece.startsWith(' ') ? ` ${w}` : w)).filter((p) => p !== piece);
      const start = Math.floor(rand() * others.length);
      const ranked = [
        { id, logprob },
        ...[0, 1, 2, 3, 4].map((k) => ({ id: this.tokenizer.id(others[(start + k) % others.length]), logprob: round4(logprob - 0.5 * (k + 1)) })),
      ];
      return { id, text, logprob, ranked };
    };
    const steps = Array.from({ length: words }, (_, w) => {
      const piece = `${w ? ' ' : ''}${WORDS[Math.floor(rand() * WORDS.length)]}`;
      return step(piece, piece);
    });
    steps.push(step('<|im_end|>', ''));
    return steps.length > maxTokens ? { steps: steps.slice(0, maxTokens), finish: 'length' } : { steps, finish: 'stop' };
  }

  /** `_create_chat_logprobs`: the entry's `bytes` are the decoded token's, a top entry's are its returned `token` string's. */
  private logprobs(steps: Step[], ask: Ask) {
    if (!ask.logprobs) return null;
    const name = (id: number) => (ask.asIds ? `token_id:${id}` : this.tokenizer.piece(id));
    return {
      content: steps.map((s) => ({
        token: name(s.id),
        logprob: s.logprob,
        bytes: bytes(this.tokenizer.piece(s.id)),
        top_logprobs: (ask.top === -1 ? s.ranked : s.ranked.slice(0, ask.top)).map((r) => ({
          token: name(r.id),
          logprob: r.logprob,
          bytes: bytes(name(r.id)),
        })),
      })),
    };
  }

  private usage(prompt: number[], completionTokens: number) {
    const completion = completionTokens + (this.faults.usageDelta ?? 0);
    return { prompt_tokens: prompt.length, total_tokens: prompt.length + completion, completion_tokens: completion };
  }

  private completion(id: string, model: string, prompt: number[], generated: Generated[], ask: Ask) {
    return {
      id,
      object: 'chat.completion',
      created: now(),
      model,
      choices: generated.map((g, index) => ({
        index,
        message: {
          role: 'assistant',
          content: g.steps.map((s) => s.text).join(''),
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: [],
          reasoning: null,
        },
        logprobs: this.logprobs(g.steps, ask),
        finish_reason: g.finish,
        stop_reason: null,
        token_ids: ask.tokenIds ? g.steps.map((s) => s.id) : null,
      })),
      service_tier: null,
      system_fingerprint: null,
      usage: { ...this.usage(prompt, sum(generated.map((g) => g.steps.length))), prompt_tokens_details: null },
      prompt_logprobs: null,
      prompt_token_ids: ask.tokenIds ? prompt : null,
      kv_transfer_params: null,
    };
  }

  /** `chat_completion_stream_generator`: a role chunk per choice, then one chunk per choice and engine step, the last with `finish_reason`. */
  private async stream(res: ServerResponse, id: string, model: string, prompt: number[], generated: Generated[], ask: Ask, streamOptions: any): Promise<void> {
    // `should_include_usage`: any stream_options object (even `{}`) counts; its include_usage defaults to true.
    const options = streamOptions && typeof streamOptions === 'object' ? streamOptions : undefined;
    const includeUsage = !!options && !!('include_usage' in options ? options.include_usage : true);
    const continuous = includeUsage && !!options.continuous_usage_stats;
    const head = { id, object: 'chat.completion.chunk', created: now(), model };
    const sent = generated.map(() => 0);
    const send = (choices: object[], tokens: number, extra: object = {}) => {
      const usage = continuous ? { usage: this.usage(prompt, tokens) } : {};
      if (!res.destroyed) res.write(`data: ${JSON.stringify({ ...head, choices, ...usage, ...extra })}\n\n`);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    generated.forEach((_, index) => {
      const choice = { index, delta: { role: 'assistant', content: '', reasoning_content: null }, logprobs: null, finish_reason: null };
      send([choice], 0, { prompt_token_ids: ask.tokenIds ? prompt : null });
    });
    if (this.gate) await this.gate;
    const longest = Math.max(...generated.map((g) => g.steps.length));
    for (let t = 0; t < longest && !res.destroyed; t++) {
      generated.forEach((g, index) => {
        const s = g.steps[t];
        if (!s) return;
        const last = t === g.steps.length - 1;
        const choice = {
          index,
          delta: { content: s.text, reasoning_content: null },
          logprobs: this.logprobs([s], ask),
          finish_reason: last ? g.finish : null,
          ...(last ? { stop_reason: null } : {}),
          token_ids: ask.tokenIds ? [s.id] : null,
        };
        sent[index]++;
        send([choice], sent[index]);
      });
      if (this.streamGapMs) await sleep(this.streamGapMs);
    }
    if (includeUsage && !res.destroyed) res.write(`data: ${JSON.stringify({ ...head, choices: [], usage: this.usage(prompt, sum(sent)) })}\n\n`);
    const end = this.faults.streamEnd ?? 'done';
    // The socket closes after what was written is sent, so the chunked body never gets its last chunk.
    if (end === 'destroy') return void res.socket?.end();
    res.end(end === 'done' ? 'data: [DONE]\n\n' : undefined);
  }
}

interface Ask {
  logprobs: boolean;
  top: number;
  asIds: boolean;
  tokenIds: boolean;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Python's truthiness, for checks vLLM writes as `if data.get(...)`: an empty object or list is false. */
function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const now = () => Math.floor(Date.now() / 1000);
const uuid = () => randomUUID().replaceAll('-', '');

/** vLLM's ErrorResponse: `{"error": {message, type, param, code}}` with the HTTP status as `code`. */
function vllmError(res: ServerResponse, status: number, message: string, type: string, param: string | null = null): void {
  reply(res, status, { error: { message, type, param, code: status } });
}

/** A pydantic failure as vLLM's `validation_exception_handler` answers it: 400, type "Bad Request". */
function validationError(res: ServerResponse, message: string, param: string): void {
  vllmError(res, 400, `1 validation error:\n  ${message} (parameter=${param})`, 'Bad Request', param);
}

/** Starlette's `Response(status_code=200, content=...)`: no media type, so no content-type header. */
function plainText(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-length': Buffer.byteLength(text) }).end(text);
}
