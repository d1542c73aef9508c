import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { ApiError, OverloadedError } from '../errors/api-error.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import { RequestValidationError } from '../errors/validation-error.js';
import { BodyBudget } from '../http/body-budget.js';
import { isPythonSpace } from '../text/python-space.js';
import { findJsonSyntaxFault } from './json-error-position.js';
import { PYTHON_INT_MAX_DIGITS } from './python-json.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body's text as received, kept so pass-through backends can forward it unchanged. */
    rawBody?: string;
    /** Bytes of the budget this request holds until its response ends. */
    bodyBytesHeld?: number;
    /** Whether the body is read as JSON, decided from the Content-Type as FastAPI decides it. */
    bodyIsJson?: boolean;
  }
}

/**
 * FastAPI (0.132 and later, `strict_content_type`) reads a body as JSON only when its Content-Type,
 * read as Python's `email.message` reads it (up to the first `;`, stripped, lower-cased, exactly one
 * `/`), is `application/json` or `application/*+json`. Anything else, a missing or empty header
 * included, leaves the body as text.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  let start = 0;
  let end = semi === -1 ? contentType.length : semi;
  while (start < end && isPythonSpace(contentType.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(contentType.charCodeAt(end - 1))) end--;
  const mime = contentType.slice(start, end).toLowerCase();
  const slash = mime.indexOf('/');
  if (slash === -1 || mime.indexOf('/', slash + 1) !== -1 || mime.slice(0, slash) !== 'application') return false;
  const subtype = mime.slice(slash + 1);
  return subtype === 'json' || subtype.endsWith('+json');
}

/** FastAPI's answer to a body its JSON decoder cannot even read (bytes that are not UTF-8, an integer past Python's digit limit). */
const unreadable = () => new ApiError({ status: 400, message: 'There was an error parsing the body', code: ERROR_CODES.badRequest });

export interface BodyLimits {
  /** Largest body of one request (413 beyond). */
  maxBytes: number;
  /** Bytes of bodies held at once across all requests (503 beyond). */
  budget: BodyBudget;
}

// The rest of a refused body is not read: the connection closes after the answer.
const tooLarge = (max: number) =>
  new ApiError({ status: 413, message: `Request body is larger than ${max} bytes.`, code: ERROR_CODES.payloadTooLarge, headers: { connection: 'close' } });
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
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      // What the body is, is decided here from the header as FastAPI decides it; the header then
      // says so in a form Fastify parses, so that every body reaches the parser below (Fastify answers
      // 415 to values it cannot parse, which FastAPI reads as text). Assigned, not deleted: a delete
      // would turn every request's headers object into a slow dictionary.
      const type = req.headers['content-type'];
      req.bodyIsJson = isJsonContentType(type);
      if (type !== undefined) req.headers['content-type'] = req.bodyIsJson ? 'application/json' : 'text/plain';
      // The share a body takes is given back when the response ends, however it ends.
      reply.raw.once('close', () => {
        if (req.bodyBytesHeld) limits.budget.give(req.bodyBytesHeld);
        req.bodyBytesHeld = 0;
      });
    }
    done();
  });
  // `Expect: 100-continue`: Node would invite the body before any hook ran. It is invited here instead,
  // once the route's onRequest hooks (authentication) let the request through and its declared size fits.
  fastify.server.on('checkContinue', (req, res) => fastify.server.emit('request', req, res));
  fastify.addHook('preParsing', (req, reply, payload, done) => {
    if (req.headers.expect?.toLowerCase() === '100-continue' && !reply.raw.headersSent && !(Number(req.headers['content-length'] ?? 0) > limits.maxBytes)) {
      reply.raw.writeContinue();
    }
    done(null, payload);
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
  if (!req.bodyIsJson) return done(null, bytes.toString('utf8'));
  // Python decodes the bytes strictly (a UTF-8 BOM is skipped); FastAPI answers 400 when it cannot.
  if (!isUtf8(bytes)) return done(unreadable());
  const body = bytes.toString('utf8', bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
  try {
    const parsed: unknown = JSON.parse(body);
    if (body.length > PYTHON_INT_MAX_DIGITS && hasIntegerPastPythonLimit(body)) return done(unreadable());
    req.rawBody = body;
    done(null, parsed);
  } catch {
    const fault = findJsonSyntaxFault(body) ?? { pos: 0, msg: 'Expecting value' };
    done(
      new RequestValidationError([{ type: 'json_invalid', loc: ['body', fault.pos], msg: 'JSON decode error', input: {}, ctx: { error: fault.msg } }]),
      undefined,
    );
  }
}

/**
 * Whether valid JSON `text` holds an integer token of more digits than Python reads (its `json`
 * raises ValueError, FastAPI answers 400). Linear: only when a digit run passes the limit is the text
 * walked token by token to tell an integer from digits in a string or a fraction.
 */
export function hasIntegerPastPythonLimit(text: string): boolean {
  // One pass over digit runs first: only a run longer than the limit can be such an integer.
  let run = 0;
  let found = false;
  for (let i = 0; i < text.length && !found; i++) {
    run = isDigit(text.charCodeAt(i)) ? run + 1 : 0;
    found = run > PYTHON_INT_MAX_DIGITS;
  }
  if (!found) return false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    // A number token: its integer digits, then a fraction or exponent makes it a float.
    let j = c === 0x2d ? i + 1 : i;
    const digitsStart = j;
    while (isDigit(text.charCodeAt(j))) j++;
    const digits = j - digitsStart;
    const next = text.charCodeAt(j);
    const isFloat = next === 0x2e || next === 0x65 || next === 0x45;
    if (!isFloat && digits > PYTHON_INT_MAX_DIGITS) return true;
    while (
      isDigit(text.charCodeAt(j)) ||
      text.charCodeAt(j) === 0x2e ||
      text.charCodeAt(j) === 0x65 ||
      text.charCodeAt(j) === 0x45 ||
      text.charCodeAt(j) === 0x2b ||
      text.charCodeAt(j) === 0x2d
    )
      j++;
    i = j - 1;
  }
  return false;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
