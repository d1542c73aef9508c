import { request } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.factory.js';

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  /** Every JSON log line the service wrote, parsed. */
  logs: Record<string, any>[];
  close(): Promise<void>;
}

/** A pino logger that keeps its lines in memory, so tests can read (and scan) what the service logs. */
export function captureLogger(level = 'debug') {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level, formatters: { level: (label) => ({ level: label }) } }, sink), lines };
}

/** Starts the real service on 127.0.0.1 with a free port and the given environment. */
export async function startApp(env: Record<string, string | undefined> = {}): Promise<RunningApp> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const { logger, lines } = captureLogger();
    const app = await createApp({ logger });
    try {
      await app.listen(0, '127.0.0.1');
    } catch (err) {
      // A start refused by a hook (a bad key file) has already opened what was built before it: the Redis client.
      await app.close().catch(() => undefined);
      throw err;
    }
    const address = app.getHttpServer().address() as { port: number };
    return { app, url: `http://127.0.0.1:${address.port}`, logs: lines, close: () => app.close() };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export const KEY = 'sk-test-key-0123456789';

export function authHeaders(key = KEY): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
}

/** POSTs a JSON body (or raw text) and returns status, headers and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = authHeaders()) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, any> };
}

/** Reads an SSE body into its `data:` payloads. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice('data: '.length));
}

/** A POST through node:http, sending exactly the headers given (fetch adds a content type to string bodies). */
export function rawPost(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
