import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { createRootLogger } from './common/logging/logger.js';
import { appConfig } from './config/app.config.js';
import { ShutdownState } from './health/shutdown.state.js';

async function bootstrap(): Promise<void> {
  const config = appConfig();
  const logger = createRootLogger(config.LOG_LEVEL);
  const app = await createApp({ logger });
  await app.listen(config.PORT, config.HOST);
  const { port } = app.getHttpServer().address() as { port: number };
  process.stdout.write(`Listening on http://${config.HOST}:${port} (docs at /docs)\n`);

  let stopping = false;
  // SIGTERM/SIGINT: stop accepting, readiness to 503, let in-flight requests and streams finish
  // (up to SHUTDOWN_GRACE_MS), release backends, exit 0. SIGHUP is left to the key-file reload.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.get(ShutdownState).begin();
    logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'draining: no new connections, waiting for in-flight requests');
    const server = app.getHttpServer();
    // Keep-alive connections that finish their request while draining would otherwise stay open.
    const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
    closeIdle.unref();
    const force = setTimeout(() => {
      logger.warn('grace period over: closing the connections still open');
      server.closeAllConnections();
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await app.close();
      logger.info('stopped');
    } finally {
      clearTimeout(force);
      clearInterval(closeIdle);
      logger.flush(() => process.exit(0));
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
