import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError, OverloadedError } from '../errors/api-error.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import { RequestValidationError } from '../errors/validation-error.js';
import { BodyBudget } from '../http/body-budget.js';
import { findJsonSyntaxFault } from './json-error-position.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body's text as received, kept so pass-through backends can forward it unchanged. */
    rawBody?: string;
    /** Bytes of the budget this request holds until its response ends. */
    bodyBytesHeld?: number;
  }
}

/** FastAPI parses a body as JSON when there is no content type or it is `application/json` / `application/*+json`. */
function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const mime = contentType.split(';', 1)[0].trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

export interface BodyLimits {
  /** Largest body of one request (413 beyond). */
  maxBytes: number;
  /** Bytes of bodies held at once across all requests (503 beyond). */
  budget: BodyBudget;
}

// The rest of a refused body is not read: the connection closes after the answer.
const tooLarge = (max: number) => new ApiError(413, `Request body is larger than ${max} bytes.`, 'invalid_request_error', ERROR_CODES.payloadTooLarge, null, { connection: 'close' });
const busy = () => new OverloadedError('The service is receiving more request data than it holds at once; try again shortly.', 1, { connection: 'close' });

/**
 * Replaces Fastify's body parsing with FastAPI's rules: JSON bodies parse or fail as a 422
 * `json_invalid` at the character offset; an empty body is a missing body; a body of another
 * content type is kept as text (and then fails validation as not an object). Bodies are bounded
 * one by one and all together: a declared length over a bound is refused before a byte is read.
 * A path no route serves gets its body read and dropped, never held.
 */
export function registerJsonBodyParser(fastify: FastifyInstance, limits: BodyLimits): void {
  fastify.removeAllContentTypeParsers();
  fastify.addHook('onRequest', (req, reply, done) => {
    // The share a body takes is given back when the response ends, however it ends.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      reply.raw.once('close', () => {
        if (req.bodyBytesHeld) limits.budget.give(req.bodyBytesHeld);
        req.bodyBytesHeld = 0;
      });
    }
    done();
  });
  fastify.addContentTypeParser('*', (req: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
    if (req.is404) {
      payload.resume();
      payload.once('end', () => done(null, undefined));
      return;
    }
    readBody(req, payload, limits).then(
      (bytes) => parse(req, bytes, done),
      (err: Error) => done(err),
    );
  });
}

function readBody(req: FastifyRequest, payload: IncomingMessage, { maxBytes, budget }: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const hold = (bytes: number): boolean => {
      if (!budget.take(bytes)) return false;
      req.bodyBytesHeld = (req.bodyBytesHeld ?? 0) + bytes;
      return true;
    };
    if (declared > maxBytes) return reject(tooLarge(maxBytes));
    if (declared > 0 && !hold(declared)) return reject(busy());
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (err: Error) => {
      payload.off('data', onData);
      chunks.length = 0;
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) return fail(tooLarge(maxBytes));
      if (received > (req.bodyBytesHeld ?? 0) && !hold(received - (req.bodyBytesHeld ?? 0))) return fail(busy());
      chunks.push(chunk);
    };
    payload.on('data', onData);
    payload.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)));
    payload.once('error', (err) => reject(err));
  });
}

function parse(req: FastifyRequest, bytes: Buffer, done: (err: Error | null, body?: unknown) => void): void {
  if (bytes.length === 0) return done(null, undefined);
  const body = bytes.toString('utf8');
  if (!isJsonContentType(req.headers['content-type'])) return done(null, body);
  try {
    const parsed: unknown = JSON.parse(body);
    req.rawBody = body;
    done(null, parsed);
  } catch {
    const fault = findJsonSyntaxFault(body) ?? { pos: 0, msg: 'Expecting value' };
    done(new RequestValidationError([{ type: 'json_invalid', loc: ['body', fault.pos], msg: 'JSON decode error', input: {}, ctx: { error: fault.msg } }]), undefined);
  }
}
