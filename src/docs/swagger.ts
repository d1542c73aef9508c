import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { finalizeDocument } from '../common/openapi/finalize-document.js';

const DESCRIPTION = `An OpenAI-compatible chat-completions service. Send \`Authorization: Bearer <key>\`.

Click **Authorize**, paste a key, then **Try it out** on \`POST /v1/chat/completions\`: the \`echo\` model answers with your last message.`;

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

/** Serves the spec at GET /openapi.json and Swagger UI at GET /docs, FastAPI's paths. */
export function setupSwagger(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'Chat completions API',
    swaggerOptions: { persistAuthorization: true },
  });
}
