/** One message of an OpenAI chat request, as the client sent it. */
export type ChatMessage = Record<string, unknown> & { role?: unknown; content?: unknown };

/** The client's request body: open, so every field it sent is kept. */
export type ChatRequestBody = Record<string, unknown> & { model: string; messages: ChatMessage[] };

/**
 * A request body and, when the transport kept it, the exact JSON text it arrived as: pass-through
 * forwards `text` without serialising again. `text` is always `json`'s own text, so a step that
 * changes the body builds a new `RequestBody` (without `text`) instead of editing this one.
 */
export interface RequestBody {
  readonly json: ChatRequestBody;
  readonly text?: string;
}

/** What a backend is asked to do. */
export interface BackendRequest {
  /** The body exactly as the client sent it (unknown fields included). */
  body: RequestBody;
  /** The model name the client asked for; replies carry it back. */
  requestedModel: string;
  /** The model name the backend's own API expects. */
  model: string;
  /** `model` names a trained checkpoint to load as a LoRA adapter (backends that load adapters only). */
  adapter?: boolean;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [extra: string]: unknown;
}

/** An OpenAI `chat.completion` object. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: string | null; tool_calls?: unknown[]; [extra: string]: unknown };
    finish_reason: string | null;
    logprobs: unknown;
  }[];
  usage?: CompletionUsage;
  [extra: string]: unknown;
}

/** An OpenAI `chat.completion.chunk` object. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: Record<string, unknown>;
    finish_reason: string | null;
    logprobs?: unknown;
  }[];
  usage?: CompletionUsage | null;
  [extra: string]: unknown;
}

/**
 * What a backend hands on: the object and, when the backend has it, its exact JSON text (a
 * pass-through upstream's own text, model name already in place), written as it is instead of
 * being serialised again. `text` is always the object's own text: a step that changes the object
 * builds a new frame without `text`; it never edits one.
 */
export interface CompletionFrame {
  readonly completion: ChatCompletion;
  readonly text?: string;
}

/** One streamed chunk, as a {@link CompletionFrame} is one reply. */
export interface ChunkFrame {
  readonly chunk: ChatCompletionChunk;
  readonly text?: string;
}

/**
 * The port every model backend implements. Backends are plain classes: they know nothing of
 * HTTP requests or Nest, throw errors from `common/errors`, and stop work when `signal` aborts.
 */
export interface ModelBackend {
  /** The provider type (`echo`, `openai`, `anthropic`, `llama-cpp`). */
  readonly kind: string;
  complete(request: BackendRequest, signal: AbortSignal): Promise<CompletionFrame>;
  /**
   * A stream ends with its usage chunk (`choices: []`) whenever the backend knows its usage, asked
   * for or not: the service settles the caller's token budget with it and passes it on only when
   * the client asked (`stream_options.include_usage`).
   */
  stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<ChunkFrame>;
  /** Whether the backend already holds this model ready (a loaded adapter): routing prefers it. */
  holds?(model: string): boolean;
  /** Models held ready beyond the configured names (loaded adapters), as backend model names. */
  loadedModels?(): string[];
  /** Readiness: resolves when the backend can serve, rejects with the reason when not. */
  check?(signal: AbortSignal): Promise<void>;
  /** Releases pools, models and timers at shutdown. */
  close?(): Promise<void>;
}
