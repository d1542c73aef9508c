import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** The process's one JSON logger: asynchronous writes to stdout, never a key or token in it. */
export function createRootLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'chat-completions-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey'], censor: '[redacted]' },
    },
    pino.destination({ dest: 1, sync: false, minLength: 0 }),
  );
}

/** Nest's own log lines (start-up, modules, errors) as JSON through the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string) {
    this.logger.fatal({ context }, String(message));
  }
}
