/** Reads a response body as text, refusing more than `limit` bytes (the rest is discarded). */
export async function readText(body: AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => unknown }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      return { text: Buffer.concat(parts).toString('utf8'), truncated: true };
    }
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return { text: Buffer.concat(parts, size).toString('utf8'), truncated: false };
}

/**
 * Lets go of a streamed response body: after a complete stream the connection goes back to the pool
 * (the rest is read and dropped); a stream left early (client gone, failure) closes it, which stops
 * the upstream's work.
 */
export function releaseBody(body: { destroyed: boolean; destroy(): unknown; once(event: 'error', fn: () => void): unknown; dump(opts?: { limit: number }): Promise<void> } | undefined, completed: boolean): void {
  if (!body || body.destroyed) return;
  if (completed) body.dump({ limit: 64 * 1024 }).catch(() => undefined);
  else {
    // Nobody reads the body any more: the abort error its destruction emits has no one to tell.
    body.once('error', () => undefined);
    body.destroy();
  }
}
