import { completionId, unixSeconds } from '../../common/ids.js';
import type { ChatCompletionChunk } from '../model-backend.js';
import { chatChunk, usageChunk } from '../openai-format.js';
import {
  anthropicStreamError,
  noStopReason,
  toUsage,
  type AnthropicContentBlock,
  type AnthropicErrorBody,
  type AnthropicUsage,
  type ReplyContext,
} from './anthropic-reply.mapper.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';
import { thinkingBlockOf } from './thinking-blocks.js';

/** One server-sent event of a streamed Anthropic message (its `data`, which names its own type). */
export interface AnthropicStreamEvent {
  type: string;
  index?: number;
  message?: { id?: unknown; usage?: AnthropicUsage };
  content_block?: AnthropicContentBlock;
  delta?: { type?: string; text?: string; partial_json?: string; thinking?: string; signature?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: AnthropicErrorBody['error'];
}

export interface AnthropicStreamOptions extends ReplyContext {
  /** `stream_options.include_usage`: a last chunk with no choices and the usage. */
  includeUsage: boolean;
}

/** What an open content block is, by Anthropic's block index. */
type OpenBlock =
  { kind: 'tool'; index: number; sentArguments: boolean } | { kind: 'json'; sent: boolean } | { kind: 'thinking'; thinking: string; signature: string };

const NONE: readonly ChatCompletionChunk[] = Object.freeze([]);

/**
 * Turns Anthropic stream events, in order, into `chat.completion.chunk` objects under one id: text as
 * `content`, thinking as `reasoning_content` and `reasoning` deltas, each finished thinking or
 * redacted block as a one-element `thinking_blocks` delta, tool_use as tool calls numbered among
 * tool calls. Pure apart from its own state.
 */
export class AnthropicStreamMapper {
  private id = completionId();
  private readonly created = unixSeconds();
  private usage: AnthropicUsage = {};
  private readonly blocks = new Map<number, OpenBlock>();
  private toolCalls = 0;
  private thinkingText = '';
  private thoughts = 0;
  /** With a response_format tool, text waits: it is the answer only if the tool is never called. */
  private heldText: string | undefined;
  private jsonCalled = false;
  private finishSent = false;
  private stopped = false;

  constructor(private readonly options: AnthropicStreamOptions) {
    if (options.jsonTool) this.heldText = '';
  }

  /** Whether `message_stop` arrived: a stream that ends before it is a failure, not a short answer. */
  get done(): boolean {
    return this.stopped;
  }

  /** The chunks one event stands for (often none). An `error` event, or a stream without a stop reason, throws an UpstreamError. */
  map(event: AnthropicStreamEvent): readonly ChatCompletionChunk[] {
    switch (event.type) {
      case 'message_start':
        if (typeof event.message?.id === 'string') this.id = event.message.id;
        this.usage = { ...event.message?.usage };
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content_block_start':
        return this.blockStart(event.index ?? -1, event.content_block);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'content_block_stop':
        return this.blockStop(event.index ?? -1);
      case 'message_delta':
        return this.finish(event);
      case 'message_stop':
        return this.stop();
      case 'error':
        throw anthropicStreamError(this.options.provider, event);
      default:
        // ping, and event types Anthropic may add later.
        return NONE;
    }
  }

  private blockStart(at: number, block: AnthropicContentBlock | undefined): readonly ChatCompletionChunk[] {
    if (block?.type === 'text') return block.text ? this.text(block.text) : NONE;
    if (block?.type === 'thinking') {
      this.blocks.set(at, { kind: 'thinking', thinking: block.thinking ?? '', signature: block.signature ?? '' });
      return NONE;
    }
    if (block?.type === 'redacted_thinking') return [this.chunk({ thinking_blocks: [thinkingBlockOf(block)] })];
    if (block?.type !== 'tool_use') return NONE;
    if (this.options.jsonTool && block.name === this.options.jsonTool) {
      this.jsonCalled = true;
      this.heldText = undefined;
      this.blocks.set(at, { kind: 'json', sent: false });
      return NONE;
    }
    const index = this.toolCalls++;
    this.blocks.set(at, { kind: 'tool', index, sentArguments: false });
    return [this.chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
  }

  private blockDelta(event: AnthropicStreamEvent): readonly ChatCompletionChunk[] {
    const delta = event.delta;
    if (delta?.type === 'text_delta') return delta.text ? this.text(delta.text) : NONE;
    const block = this.blocks.get(event.index ?? -1);
    if (block?.kind === 'thinking') {
      if (delta?.type === 'signature_delta') block.signature += delta.signature ?? '';
      if (delta?.type !== 'thinking_delta' || !delta.thinking) return NONE;
      // Several thinking blocks read as paragraphs, as the non-streamed reply joins them.
      const text = block.thinking === '' && this.thoughts > 0 ? `\n\n${delta.thinking}` : delta.thinking;
      block.thinking += delta.thinking;
      this.thinkingText += delta.thinking;
      return [this.chunk({ reasoning_content: text, reasoning: text })];
    }
    if (delta?.type !== 'input_json_delta' || !delta.partial_json || !block) return NONE;
    if (block.kind === 'json') {
      block.sent = true;
      return [this.chunk({ content: delta.partial_json })];
    }
    if (block.kind !== 'tool') return NONE;
    block.sentArguments = true;
    return [this.chunk({ tool_calls: [{ index: block.index, function: { arguments: delta.partial_json } }] })];
  }

  private blockStop(at: number): readonly ChatCompletionChunk[] {
    const block = this.blocks.get(at);
    this.blocks.delete(at);
    if (block?.kind === 'thinking') {
      this.thoughts++;
      return [this.chunk({ thinking_blocks: [{ type: 'thinking', thinking: block.thinking, signature: block.signature }] })];
    }
    // A tool called without arguments streams no JSON at all; clients still expect an object.
    if (block?.kind === 'json' && !block.sent) return [this.chunk({ content: '{}' })];
    if (block?.kind !== 'tool' || block.sentArguments) return NONE;
    return [this.chunk({ tool_calls: [{ index: block.index, function: { arguments: '{}' } }] })];
  }

  private text(text: string): readonly ChatCompletionChunk[] {
    if (this.jsonCalled) return NONE;
    if (this.heldText !== undefined) {
      this.heldText += text;
      return NONE;
    }
    return [this.chunk({ content: text })];
  }

  private finish(event: AnthropicStreamEvent): ChatCompletionChunk[] {
    // message_delta's usage is cumulative and final: it may correct message_start's.
    for (const [k, v] of Object.entries(event.usage ?? {})) if (v !== null && v !== undefined) (this.usage as Record<string, unknown>)[k] = v;
    const reason = mapAnthropicStopReason(event.delta?.stop_reason, this.jsonCalled && this.toolCalls === 0);
    if (reason === undefined) throw noStopReason(this.options.provider);
    const out: ChatCompletionChunk[] = [];
    if (this.heldText) out.push(this.chunk({ content: this.heldText }));
    this.heldText = undefined;
    this.finishSent = true;
    out.push(this.chunk({}, reason));
    return out;
  }

  private stop(): ChatCompletionChunk[] {
    if (!this.finishSent) throw noStopReason(this.options.provider);
    this.stopped = true;
    if (!this.options.includeUsage) return [];
    return [usageChunk(this.id, this.created, this.options.model, toUsage(this.usage, this.thinkingText))];
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): ChatCompletionChunk {
    return chatChunk(this.id, this.created, this.options.model, delta, finishReason);
  }
}
