import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { registerJsonBodyParser } from './common/json/json-body.parser.js';
import { appConfig } from './config/app.config.js';
import { buildOpenApiDocument, setupSwagger } from './docs/swagger.js';

/** Builds the application (not yet listening): the one place main, tests and the spec writer share. */
export async function createApp(options: { logger?: false | Logger } = {}): Promise<NestFastifyApplication> {
  const config = appConfig();
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    requestTimeout: 0,
    return503OnClosing: true,
  });
  registerJsonBodyParser(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, {
    bodyParser: false,
    abortOnError: false,
    logger: options.logger === false ? false : undefined,
  });
  // Not SIGHUP: that one re-reads API_KEYS_FILE.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  setupSwagger(app, buildOpenApiDocument(app));
  return app;
}
