import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { sendError } from './anthropic-mock.js';
import { MockUpstream, type RecordedRequest } from './mock-upstream.js';

/** Recorded Anthropic replies: `<case>.sse` (the stream's bytes) and `<case>.json` (the non-streamed body). */
export const FIXTURES = new URL('../fixtures/anthropic/', import.meta.url);

export const fixture = (file: string): Buffer => readFileSync(new URL(file, FIXTURES));

/** The case names that have a file with this extension. */
export const fixtureCases = (ext: 'sse' | 'json'): string[] =>
  readdirSync(FIXTURES)
    .filter((f) => f.endsWith(`.${ext}`))
    .map((f) => f.slice(0, -ext.length - 1))
    .sort();

/** How a reply's bytes are cut into writes: whole, pieces of a fixed size, seeded random sizes, or at given offsets. */
export type Cuts = 'whole' | number | { seed: number; max: number } | number[];

export interface ReplayOptions {
  cuts?: Cuts;
  /** Pause between writes; without it a cut reply still yields to the event loop between pieces. */
  gapMs?: number;
  /** Write this many bytes, then destroy the connection (the upstream dies mid-reply). */
  dropAfterBytes?: number;
}

/** Anthropic's documented status for each error type (https://docs.claude.com/en/api/errors). */
export const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Versions the Messages API accepts in `anthropic-version`. */
const VERSIONS = new Set(['2023-06-01', '2023-01-01']);

/**
 * Serves a recorded case as Anthropic's `POST /v1/messages` on 127.0.0.1: the `.sse` bytes when the request
 * has `stream: true`, the `.json` body otherwise, after the API's own checks of path, key, version and body.
 */
export class AnthropicReplay {
  /** Requests that passed the checks, in order. */
  readonly calls: RecordedRequest[] = [];
  private readonly server = new MockUpstream();
  private current?: { name: string; options: ReplayOptions };

  constructor(readonly apiKey: string) {
    this.server.handler = (req, res) => this.answer(req, res);
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  /** The API origin, as Anthropic clients take it (requests go to `/v1/messages`). */
  get baseURL(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Answers every following request with this case; forgets earlier calls. */
  play(name: string, options: ReplayOptions = {}): void {
    this.calls.length = 0;
    this.server.reset();
    this.current = { name, options };
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private answer(req: RecordedRequest, res: ServerResponse): void | Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/messages') return sendError(res, 404, 'not_found_error', 'Not Found');
    const key = req.headers['x-api-key'];
    if (!key) return sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    if (key !== this.apiKey) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    const version = req.headers['anthropic-version'];
    if (!version) return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!VERSIONS.has(String(version))) return sendError(res, 400, 'invalid_request_error', `anthropic-version: invalid version ${String(version)}`);
    if (req.json === undefined) return sendError(res, 400, 'invalid_request_error', 'messages: request body is not valid JSON');
    for (const field of ['model', 'max_tokens', 'messages']) {
      if (req.json?.[field] === undefined) return sendError(res, 400, 'invalid_request_error', `${field}: Field required`);
    }
    this.calls.push(req);
    if (!this.current) return sendError(res, 500, 'api_error', 'no case is playing');
    const { name, options } = this.current;
    const streamed = req.json.stream === true;
    let body: Buffer;
    try {
      body = fixture(`${name}.${streamed ? 'sse' : 'json'}`);
    } catch {
      return sendError(res, 500, 'api_error', `case ${name} has no ${streamed ? '.sse' : '.json'} recording`);
    }
    const error = streamed ? undefined : (JSON.parse(body.toString('utf8')) as { type?: string; error?: { type: string } });
    const status = error?.type === 'error' ? (ERROR_STATUS[error.error?.type ?? ''] ?? 500) : 200;
    const headers: Record<string, string | number> = streamed
      ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }
      : { 'content-type': 'application/json', 'content-length': body.length };
    res.writeHead(status, { ...headers, 'request-id': `req_replay_${name}` });
    return write(res, body, options);
  }
}

async function write(res: ServerResponse, body: Buffer, options: ReplayOptions): Promise<void> {
  res.socket?.setNoDelay(true);
  const parts = pieces(body, options.cuts ?? 'whole');
  let left = options.dropAfterBytes ?? Infinity;
  for (const part of parts) {
    if (res.destroyed) return;
    const piece = part.subarray(0, left);
    await new Promise<void>((resolve) => res.write(piece, () => resolve()));
    left -= piece.length;
    if (left <= 0) return void res.destroy();
    if (parts.length > 1) await new Promise((r) => (options.gapMs ? setTimeout(r, options.gapMs) : setImmediate(r)));
  }
  res.end();
}

/** Cuts `body` into consecutive pieces as `cuts` says; the pieces always join back to `body`. */
export function pieces(body: Buffer, cuts: Cuts): Buffer[] {
  let offsets: number[];
  if (cuts === 'whole') offsets = [];
  else if (typeof cuts === 'number') offsets = Array.from({ length: Math.ceil(body.length / cuts) - 1 }, (_, i) => (i + 1) * cuts);
  else if (Array.isArray(cuts)) offsets = cuts;
  else {
    const random = mulberry32(cuts.seed);
    offsets = [];
    for (let at = 1 + Math.floor(random() * cuts.max); at < body.length; at += 1 + Math.floor(random() * cuts.max)) offsets.push(at);
  }
  const bounds = [0, ...[...new Set(offsets)].filter((o) => o > 0 && o < body.length).sort((a, b) => a - b), body.length];
  return bounds.slice(1).map((end, i) => body.subarray(bounds[i], end));
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
