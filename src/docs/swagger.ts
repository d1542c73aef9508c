import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify';
import { ERROR_CODES } from '../common/errors/error-codes.js';
import { errorBody } from '../common/errors/error-mapper.js';
import { finalizeDocument } from '../common/openapi/finalize-document.js';

const DESCRIPTION = `An OpenAI-compatible chat-completions service. Send \`Authorization: Bearer <key>\`.

Click **Authorize**, paste a key, then **Try it out** on \`POST /v1/chat/completions\`: the \`echo\` model answers with your last message.`;

const DOCS_PATH = 'docs';
const SPEC_PATHS = ['/openapi.json', '/openapi.yaml'];

/**
 * What Swagger UI needs and nothing more (checked in headless Chromium): its scripts, stylesheet and
 * icons from /docs, data: images from its CSS, "Try it out" calls to this origin, and by hash the
 * inline styles it uses: the page's two <style> blocks, the logo's <style> (swagger-ui-dist) and the
 * icon sprite's style attribute. test/operations.e2e-spec.ts fails when an upgrade changes one.
 */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'sha256-/jDKvbQ8cdux+c5epDIqkjHbXDaIY8RucT1PmAe8FG4=' 'sha256-eaPyLWVdqMc60xuz5bTp2yBRgVpQSoUggte1+40ONPU=' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=' 'unsafe-hashes' 'sha256-ezdv1bOGcoOD7FKudKN0Y2Mb763O6qVtM8LT2mtanIU='",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with /docs, its assets and the spec. */
const DOCS_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DOCS_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

/** The OpenAPI document, generated from the controllers and DTOs. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Serverless Training')
    .setDescription(DESCRIPTION)
    .setVersion('1.0.0')
    .addSecurity('HTTPBearer', { type: 'http', scheme: 'bearer' })
    .build();
  return finalizeDocument(SwaggerModule.createDocument(app, config, { operationIdFactory: (_c, method) => method }));
}

/** Serves the spec at GET /openapi.json and Swagger UI at GET /docs, FastAPI's paths, with DOCS_HEADERS. */
export function setupSwagger(app: INestApplication, document: OpenAPIObject): void {
  addDocsHeaders(app.getHttpAdapter().getInstance() as FastifyInstance);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: SPEC_PATHS[0].slice(1),
    yamlDocumentUrl: SPEC_PATHS[1].slice(1),
    customSiteTitle: 'Chat completions API',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** A `..` segment, written or percent-encoded: linear (no nested repetition). */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e)(?:\.|%2e)(?:\/|\?|$)/i;

const setDocsHeaders: onRequestHookHandler = (req, reply, done) => {
  reply.headers(DOCS_HEADERS);
  // A path that climbs out of the docs names no page: 404 Not Found, as FastAPI answers it (the static files' 403 otherwise).
  if (DOT_SEGMENT.test(req.url)) {
    reply
      .code(404)
      .type('application/json')
      .send(errorBody(404, 'Not Found', undefined, ERROR_CODES.notFound));
    return;
  }
  done();
};

/** A hook on the docs' own routes only (the swagger module's and its static files'), so API routes pay nothing. */
function addDocsHeaders(fastify: FastifyInstance): void {
  const prefix = `/${DOCS_PATH}`;
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.url !== prefix && !route.url.startsWith(`${prefix}/`) && !SPEC_PATHS.includes(route.url)) return;
    const hooks = route.onRequest;
    route.onRequest = hooks === undefined ? [setDocsHeaders] : [...(Array.isArray(hooks) ? hooks : [hooks]), setDocsHeaders];
  });
}
