import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestValidationError } from '../errors/validation-error.js';
import { findJsonSyntaxFault } from './json-error-position.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body's text as received, kept so pass-through backends can forward it unchanged. */
    rawBody?: string;
  }
}

/** FastAPI parses a body as JSON when there is no content type or it is `application/json` / `application/*+json`. */
function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const mime = contentType.split(';', 1)[0].trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/**
 * Replaces Fastify's body parsing with FastAPI's rules: JSON bodies parse or fail as a 422
 * `json_invalid` at the character offset; an empty body is a missing body; a body of another
 * content type is kept as text (and then fails validation as not an object).
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (req: FastifyRequest, text: string | Buffer, done) => {
    const body = typeof text === 'string' ? text : text.toString('utf8');
    if (body.length === 0) return done(null, undefined);
    if (!isJsonContentType(req.headers['content-type'])) return done(null, body);
    try {
      const parsed: unknown = JSON.parse(body);
      req.rawBody = body;
      done(null, parsed);
    } catch {
      const fault = findJsonSyntaxFault(body) ?? { pos: 0, msg: 'Expecting value' };
      done(new RequestValidationError([{ type: 'json_invalid', loc: ['body', fault.pos], msg: 'JSON decode error', input: {}, ctx: { error: fault.msg } }]), undefined);
    }
  });
}
