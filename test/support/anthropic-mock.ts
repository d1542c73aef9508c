import type { ServerResponse } from 'node:http';
import { MockUpstream, type RecordedRequest } from './mock-upstream.js';

/** A call that passed the Messages API's checks (method, path, key, version, body). */
export type MessagesCall = RecordedRequest;

export type Script = (call: MessagesCall, res: ServerResponse) => void | Promise<void>;

export type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Block[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens?: number;
    cache_read_input_tokens?: number;
    output_tokens_details?: { thinking_tokens: number };
  };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/**
 * A local stand-in for Anthropic's Messages API on 127.0.0.1: checks the path and the API key as
 * Anthropic does, records every call, and answers with the current script.
 */
export class AnthropicMock {
  readonly calls: MessagesCall[] = [];
  script: Script = (call, res) => sendMessage(res, message(call.json.model, [{ type: 'text', text: 'Hello!' }]));
  /** The HTTP server: it records every request, this class keeps the ones that pass Anthropic's checks. */
  private readonly server = new MockUpstream();

  constructor(readonly apiKey: string) {
    this.server.handler = (req, res) => this.answer(req, res);
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  /** The API origin, as `baseURL` takes it (requests go to `/v1/messages`). */
  get baseURL(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  reset(script: Script): void {
    this.calls.length = 0;
    this.server.reset();
    this.script = script;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private answer(req: RecordedRequest, res: ServerResponse): void | Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/messages') return sendError(res, 404, 'not_found_error', `${req.method} ${req.url} not found`);
    if (req.headers['x-api-key'] !== this.apiKey) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (req.json === undefined) return sendError(res, 400, 'invalid_request_error', 'body: not valid JSON');
    if (typeof req.json?.model !== 'string' || !Number.isInteger(req.json.max_tokens) || !Array.isArray(req.json.messages)) {
      return sendError(res, 400, 'invalid_request_error', 'model, max_tokens and messages are required');
    }
    this.calls.push(req);
    return this.script(req, res);
  }
}

export function message(
  model: string,
  content: Block[],
  stopReason = 'end_turn',
  usage: AnthropicMessage['usage'] = { input_tokens: 12, output_tokens: 7 },
): AnthropicMessage {
  return { id: 'msg_01MockAbCdEfGhIjKlMnOpQr', type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage };
}

export function sendMessage(res: ServerResponse, msg: AnthropicMessage): void {
  const text = JSON.stringify(msg);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'request-id': 'req_mock' });
  res.end(text);
}

/** Anthropic's error answer: `{type: 'error', error: {type, message}}`. */
export function sendError(res: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ type: 'error', error: { type, message: text } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const pieces = (s: string, size: number) => s.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];

/** How a block opens in `content_block_start`, and the deltas that fill it (a redacted block comes whole). */
function blockEvents(block: Block): { opened: Record<string, unknown>; deltas: Record<string, unknown>[] } {
  switch (block.type) {
    case 'text':
      return { opened: { type: 'text', text: '' }, deltas: pieces(block.text, 5).map((text) => ({ type: 'text_delta', text })) };
    case 'tool_use':
      return {
        opened: { ...block, input: {} },
        deltas: ['', ...pieces(JSON.stringify(block.input), 7)].map((partial_json) => ({ type: 'input_json_delta', partial_json })),
      };
    case 'thinking':
      return {
        opened: { type: 'thinking', thinking: '', signature: '' },
        deltas: [
          ...pieces(block.thinking, 9).map((thinking) => ({ type: 'thinking_delta', thinking })),
          { type: 'signature_delta', signature: block.signature },
        ],
      };
    case 'redacted_thinking':
      return { opened: block, deltas: [] };
  }
}

/** The documented event sequence that streams `msg`: text, thinking and tool input JSON cut into small deltas; message_delta's usage is cumulative, as Anthropic's is. */
export function messageEvents(msg: AnthropicMessage): SseEvent[] {
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, output_tokens_details } = msg.usage;
  const start = {
    ...msg,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens: 1 },
  };
  const events: SseEvent[] = [{ event: 'message_start', data: { type: 'message_start', message: start } }];
  msg.content.forEach((block, index) => {
    const { opened, deltas } = blockEvents(block);
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: opened } });
    if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
    for (const delta of deltas) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  const usage = { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, ...(output_tokens_details && { output_tokens_details }) };
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence }, usage } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes events as SSE (`event:` and `data:` lines); leaves the connection open when `end` is false. */
export async function sendEvents(res: ServerResponse, events: SseEvent[], opts: { gapMs?: number; end?: boolean } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const e of events) {
    if (res.destroyed) return;
    res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    if (opts.gapMs) await sleep(opts.gapMs);
  }
  if (opts.end !== false) res.end();
}

type Turn = { role: string; content: string | { type: string; thinking?: string; signature?: string }[] };

/**
 * What Anthropic answers 400 about thinking sent back (its extended-thinking page, NOTES.md §2): with
 * thinking on, an assistant tool turn being answered must start with its thinking block, and every
 * thinking block must come back as it was signed (`signed`: signature → thinking text). Undefined when
 * the request passes.
 */
export function thinkingProblem(body: { thinking?: { type?: string }; messages: Turn[] }, signed: ReadonlyMap<string, string>): string | undefined {
  const blocks = (turn: Turn | undefined) => (Array.isArray(turn?.content) ? turn.content : []);
  for (const [i, turn] of body.messages.entries()) {
    for (const [j, block] of blocks(turn).entries()) {
      if (block.type === 'thinking' && signed.get(block.signature ?? '') !== block.thinking)
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
    }
  }
  const thinking = body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive';
  const last = body.messages.length - 1;
  const answersTools = blocks(body.messages[last]).some((b) => b.type === 'tool_result');
  const first = blocks(body.messages[last - 1])[0]?.type;
  if (thinking && answersTools && first !== 'thinking' && first !== 'redacted_thinking') {
    return `messages.${last - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
  }
  return undefined;
}
