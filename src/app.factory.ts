import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { registerAuthBeforeBody } from './auth/auth-before-body.hook.js';
import { BearerAuthenticator } from './auth/bearer.authenticator.js';
import { answerClientError, answerFrameworkError } from './common/errors/framework-errors.js';
import { BodyBudget } from './common/http/body-budget.js';
import { registerJsonBodyParser } from './common/json/json-body.parser.js';
import { createRootLogger, NestPinoLogger } from './common/logging/logger.js';
import { appConfig } from './config/app.config.js';
import { buildOpenApiDocument, setupSwagger } from './docs/swagger.js';
import { MetricsService } from './metrics/metrics.service.js';
import { registerRequestTelemetry, requestId } from './metrics/request-telemetry.js';

export interface AppOptions {
  /** The JSON logger; defaults to one on stdout at LOG_LEVEL. */
  logger?: Logger;
}

/** Builds the application (not yet listening): the one place main, tests and the spec writer share. */
export async function createApp(options: AppOptions = {}): Promise<NestFastifyApplication> {
  const config = appConfig();
  const logger = options.logger ?? createRootLogger(config.LOG_LEVEL);
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    // Deliberate timeouts: headers and the whole request must arrive in time; an open response
    // (a long stream) is bounded by the upstream's own deadline, not by socket inactivity here.
    connectionTimeout: 0,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    return503OnClosing: true,
    // No Nest middleware is used: without middie every request skips its hook.
    skipMiddie: true,
    // A request without Host gets the service's own JSON answer, not Node's empty 400. Node checks
    // the header and request timeouts every connectionsCheckingInterval (30 s by default): every second.
    http: { requireHostHeader: false, connectionsCheckingInterval: 1000 },
    requestIdHeader: false,
    genReqId: requestId,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  });
  const fastify = adapter.getInstance();
  fastify.server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  // Connections past the cap are closed by Node as soon as they are accepted.
  fastify.server.maxConnections = config.MAX_CONNECTIONS;
  registerJsonBodyParser(fastify, { maxBytes: config.MAX_BODY_BYTES, budget: new BodyBudget(config.MAX_BUFFERED_BODY_BYTES) });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, {
    bodyParser: false,
    abortOnError: false,
    logger: new NestPinoLogger(logger),
  });
  if (config.CORS_ORIGINS) {
    const origins = config.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    app.enableCors({
      origin: origins.includes('*') ? true : origins,
      exposedHeaders: [
        'x-request-id',
        'x-checkpoint-version',
        'retry-after',
        'x-ratelimit-limit-requests',
        'x-ratelimit-remaining-requests',
        'x-ratelimit-reset-requests',
        'x-ratelimit-limit-tokens',
        'x-ratelimit-remaining-tokens',
        'x-ratelimit-reset-tokens',
      ],
    });
  }
  registerRequestTelemetry(fastify, app.get(MetricsService), logger, config.LOG_BODIES === 'true' ? config.LOG_BODY_MAX_CHARS : 0);
  // Added to each route as it is registered; route hooks run after telemetry's, so a refusal is logged and counted.
  registerAuthBeforeBody(fastify, app.get(BearerAuthenticator), new NestLogger('Auth'));
  setupSwagger(app, buildOpenApiDocument(app));
  return app;
}
