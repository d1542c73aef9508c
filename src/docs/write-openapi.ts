import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { createApp } from '../app.factory.js';
import { buildOpenApiDocument } from './swagger.js';

/** `npm run openapi`: writes the spec the code generates to openapi.json (or the path given). */
async function main(): Promise<void> {
  process.env.API_KEYS ||= 'spec-writer-has-no-clients';
  const app = await createApp({ logger: pino({ level: 'silent' }) });
  await app.init();
  const path = process.argv[2] ?? 'openapi.json';
  writeFileSync(path, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
  await app.close();
  process.stdout.write(`wrote ${path}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
