import { randomUUID } from 'node:crypto';

/**
 * An OpenAI-style completion id: `chatcmpl-` and 32 random hex digits. randomUUID draws from a
 * cached entropy pool, so an id costs no system call.
 */
export function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
