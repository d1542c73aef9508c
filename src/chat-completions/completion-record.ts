import type { CompletionUsage } from '../providers/model-backend.js';

/** What served a request, as the flow returns it: for a stream, `usage` is known once the stream ended. */
export interface Served {
  /** The provider whose answer the client got. */
  readonly provider: string;
  /** The backend's usage, or an estimate (`estimated: true`) when it reported none. */
  readonly usage: CompletionUsage | undefined;
  /** The concrete checkpoint version that served (`step42`), sent as `x-checkpoint-version`. */
  readonly checkpointVersion?: string;
}

/**
 * What a chat completion leaves for its log line and metrics. The controller writes it; request
 * telemetry reads it once, when the response closes.
 */
export interface CompletionRecord {
  stream?: boolean;
  /** The configured model name that served it (bounded: wildcards stay `vllm/*`). */
  model?: string;
  served?: Served;
  /** When the first streamed chunk was written (performance.now()). */
  firstChunkAt?: number;
  /** The reply's text, kept only when bodies are logged. */
  replyText?: string;
}
