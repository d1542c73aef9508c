import { randomBytes } from 'node:crypto';

/** An OpenAI-style completion id: `chatcmpl-` and 24 random base62-ish characters. */
export function completionId(): string {
  return `chatcmpl-${randomBytes(18).toString('base64url')}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
