import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CompletionRecord } from '../chat-completions/completion-record.js';
import type { MetricsService } from './metrics.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Written by the chat-completions controller; read once when the response closes. */
    completion?: CompletionRecord;
  }
}

const CHAT_ROUTE = '/v1/chat/completions';
const QUIET_ROUTES = new Set(['/v1/health', '/v1/system-check', '/metrics']);
const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Takes a well-formed X-Request-Id from the client, or makes one. */
export function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One JSON log line and one set of metrics per request, written when its response closes (so a
 * stream is counted when it ends): request id (echoed as X-Request-Id), key name, model, provider,
 * status, latency, tokens; prompts and replies only with LOG_BODIES=true, each cut to
 * `logBodyChars` characters (0: not logged).
 */
export function registerRequestTelemetry(fastify: FastifyInstance, metrics: MetricsService, logger: Logger, logBodyChars: number): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    const started = performance.now();
    // Fastify builds routeOptions anew on each read: read once.
    const route = req.routeOptions.url;
    const isChat = route === CHAT_ROUTE;
    if (isChat) {
      req.completion = {};
      metrics.requestStarted();
    }
    reply.raw.once('close', () => finish(req, route, reply.raw.statusCode, started, isChat, !reply.raw.writableFinished));
    done();
  });

  function finish(req: FastifyRequest, route: string | undefined, status: number, started: number, isChat: boolean, aborted: boolean): void {
    const ms = performance.now() - started;
    const t = req.completion;
    const served = t?.served;
    // Token metrics count what a backend reported; an estimate (a stream without a usage chunk) is only logged.
    const estimated = served?.usage?.estimated === true;
    const usage = estimated ? undefined : served?.usage;
    if (isChat) {
      metrics.requestFinished({
        model: t?.model ?? 'unresolved',
        provider: served?.provider ?? 'none',
        status,
        stream: t?.stream === true,
        seconds: ms / 1000,
        ttftSeconds: t?.firstChunkAt !== undefined ? (t.firstChunkAt - started) / 1000 : status < 400 ? ms / 1000 : undefined,
        key: req.caller?.name,
        promptTokens: usage?.prompt_tokens,
        completionTokens: usage?.completion_tokens,
      });
    }
    const path = route ?? req.url.split('?', 1)[0].slice(0, 256);
    const level = QUIET_ROUTES.has(path) ? 'debug' : status >= 500 ? 'error' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const line: Record<string, unknown> = {
      reqId: req.id,
      method: req.method,
      path,
      status,
      latencyMs: Math.round(ms * 10) / 10,
      key: req.caller?.name,
    };
    if (aborted) line.clientAborted = true;
    if (t) {
      Object.assign(line, {
        model: t.model,
        provider: served?.provider,
        stream: t.stream === true,
        promptTokens: served?.usage?.prompt_tokens,
        completionTokens: served?.usage?.completion_tokens,
      });
      if (estimated) line.tokensEstimated = true;
      if (t.firstChunkAt !== undefined) line.ttftMs = Math.round((t.firstChunkAt - started) * 10) / 10;
      if (logBodyChars > 0) Object.assign(line, { messages: loggedMessages(req, logBodyChars), reply: t.replyText });
    }
    logger[level](line, 'request');
  }
}

/** The prompt for a log line: the messages as sent when the body is small, else the start of the body's text. */
function loggedMessages(req: FastifyRequest, maxChars: number): unknown {
  const text = req.rawBody ?? (typeof req.body === 'string' ? req.body : undefined);
  if (text !== undefined && text.length > maxChars) return `${text.slice(0, maxChars)}… [${text.length - maxChars} more characters]`;
  return (req.body as { messages?: unknown } | undefined)?.messages;
}
