import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { appConfig } from './config/app.config.js';

async function bootstrap(): Promise<void> {
  const { PORT, HOST } = appConfig();
  const app = await createApp();
  await app.listen(PORT, HOST);
  const { port } = app.getHttpServer().address() as { port: number };
  process.stdout.write(`Listening on http://${HOST}:${port} (docs at /docs)\n`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
