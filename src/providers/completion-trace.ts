import type { CompletionUsage } from './model-backend.js';

/** What a request learned on its way, filled in as it goes (for logs and metrics). */
export interface CompletionTrace {
  /** The configured model name that served it (bounded: wildcards stay `vllm/*`). */
  model?: string;
  /** The provider whose answer the client got. */
  provider?: string;
  usage?: CompletionUsage;
  /** When the first streamed chunk was written (performance.now()). */
  firstChunkAt?: number;
  /** The reply's text, kept only when bodies are logged. */
  replyText?: string;
}
