import { completionId, unixSeconds } from '../../common/ids.js';
import type { ChatCompletionChunk } from '../model-backend.js';
import { chatChunk, usageChunk } from '../openai-format.js';
import { anthropicStreamError, toUsage, type AnthropicErrorBody, type AnthropicUsage } from './anthropic-reply.mapper.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

/** One server-sent event of a streamed Anthropic message (its `data`, which names its own type). */
export interface AnthropicStreamEvent {
  type: string;
  index?: number;
  message?: { id?: unknown; usage?: AnthropicUsage };
  content_block?: { type?: string; text?: string; id?: string; name?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: AnthropicErrorBody['error'];
}

export interface AnthropicStreamOptions {
  /** The provider's name, for errors. */
  provider: string;
  /** The model the client asked for; every chunk carries it. */
  model: string;
  /** `stream_options.include_usage`: a last chunk with no choices and the usage. */
  includeUsage: boolean;
}

interface ToolCallState {
  /** Position among the message's tool calls (OpenAI's index), not Anthropic's content block index. */
  index: number;
  sentArguments: boolean;
}

const NONE: readonly ChatCompletionChunk[] = Object.freeze([]);

/** Turns Anthropic stream events, in order, into `chat.completion.chunk` objects under one id. Pure apart from its own state. */
export class AnthropicStreamMapper {
  private id = completionId();
  private readonly created = unixSeconds();
  private usage: AnthropicUsage = {};
  private readonly toolCalls = new Map<number, ToolCallState>();
  private finishSent = false;
  private stopped = false;

  constructor(private readonly options: AnthropicStreamOptions) {}

  /** Whether `message_stop` arrived: a stream that ends before it is a failure, not a short answer. */
  get done(): boolean {
    return this.stopped;
  }

  /** The chunks one event stands for (often none). An `error` event throws an UpstreamError. */
  map(event: AnthropicStreamEvent): readonly ChatCompletionChunk[] {
    switch (event.type) {
      case 'message_start':
        if (typeof event.message?.id === 'string') this.id = event.message.id;
        this.usage = { ...event.message?.usage };
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content_block_start':
        return this.blockStart(event);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'content_block_stop': {
        // A tool called without arguments streams no JSON at all; clients still expect an object.
        const call = this.toolCalls.get(event.index ?? -1);
        if (!call || call.sentArguments) return NONE;
        call.sentArguments = true;
        return [this.chunk({ tool_calls: [{ index: call.index, function: { arguments: '{}' } }] })];
      }
      case 'message_delta':
        for (const [k, v] of Object.entries(event.usage ?? {})) if (typeof v === 'number') this.usage[k as keyof AnthropicUsage] = v;
        this.finishSent = true;
        return [this.chunk({}, mapAnthropicStopReason(event.delta?.stop_reason))];
      case 'message_stop':
        return this.stop();
      case 'error':
        throw anthropicStreamError(this.options.provider, event);
      default:
        // ping, and event types Anthropic may add later.
        return NONE;
    }
  }

  private blockStart(event: AnthropicStreamEvent): readonly ChatCompletionChunk[] {
    const block = event.content_block;
    if (block?.type === 'text') return block.text ? [this.chunk({ content: block.text })] : NONE;
    if (block?.type !== 'tool_use') return NONE;
    const index = this.toolCalls.size;
    this.toolCalls.set(event.index ?? -1, { index, sentArguments: false });
    return [this.chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
  }

  private blockDelta(event: AnthropicStreamEvent): readonly ChatCompletionChunk[] {
    const delta = event.delta;
    if (delta?.type === 'text_delta') return delta.text ? [this.chunk({ content: delta.text })] : NONE;
    if (delta?.type !== 'input_json_delta' || !delta.partial_json) return NONE;
    const call = this.toolCalls.get(event.index ?? -1);
    if (!call) return NONE;
    call.sentArguments = true;
    return [this.chunk({ tool_calls: [{ index: call.index, function: { arguments: delta.partial_json } }] })];
  }

  private stop(): ChatCompletionChunk[] {
    this.stopped = true;
    const out: ChatCompletionChunk[] = [];
    if (!this.finishSent) out.push(this.chunk({}, 'stop'));
    if (this.options.includeUsage) out.push(usageChunk(this.id, this.created, this.options.model, toUsage(this.usage)));
    return out;
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): ChatCompletionChunk {
    return chatChunk(this.id, this.created, this.options.model, delta, finishReason);
  }
}
