/** Reads a response body as text, refusing more than `limit` bytes (the rest is discarded). */
export async function readText(
  body: AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => unknown },
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
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
