/** OpenAI's rule of thumb, about four characters a token, counted in UTF-8 bytes so other scripts are not undercounted. */
const BYTES_PER_TOKEN = 4;

/** The role and framing a chat template adds around each message. */
const TOKENS_PER_MESSAGE = 4;

/**
 * What an image, audio, video or file content part is charged instead of its payload's length:
 * base64 is not text the model reads, and a key with a `tpm` could never send an image if it were
 * counted as text. 765 is what OpenAI charges a 1024×1024 image at high detail.
 */
export const MEDIA_PART_TOKENS = 765;

const MEDIA_PART_TYPES = new Set([
  'image_url',
  'input_image',
  'image',
  'input_audio',
  'audio_url',
  'audio',
  'video_url',
  'video',
  'file',
  'input_file',
  'document',
]);

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The UTF-8 bytes of every string inside `root`, and of every object key with `withKeys`. Walked
 * with a stack, not recursion (a body may nest 100,000 levels), in time linear in its size; no
 * allocation for a flat object such as a streamed delta.
 */
export function textBytes(root: unknown, withKeys: boolean): number {
  if (typeof root === 'string') return byteLength(root);
  if (root === null || typeof root !== 'object') return 0;
  let bytes = 0;
  let stack: object[] | undefined;
  for (let node: object | undefined = root; node !== undefined; node = stack?.pop()) {
    if (Array.isArray(node)) {
      for (const v of node as unknown[]) {
        if (typeof v === 'string') bytes += byteLength(v);
        else if (v !== null && typeof v === 'object') (stack ??= []).push(v);
      }
      continue;
    }
    for (const k in node) {
      if (withKeys) bytes += byteLength(k);
      const v = (node as Record<string, unknown>)[k];
      if (typeof v === 'string') bytes += byteLength(v);
      else if (v !== null && typeof v === 'object') (stack ??= []).push(v);
    }
  }
  return bytes;
}

const tokensOf = (bytes: number) => Math.ceil(bytes / BYTES_PER_TOKEN);

const isMediaPart = (part: unknown) => part !== null && typeof part === 'object' && MEDIA_PART_TYPES.has((part as { type?: unknown }).type as string);

/**
 * The prompt a request makes the model read, estimated before the reply tells the truth: every
 * string and key of the body (messages of every shape, tool definitions, `tool_choice`,
 * `response_format` schemas, any other field), media content parts at MEDIA_PART_TOKENS each, and
 * framing per message.
 */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  let bytes = 0;
  let media = 0;
  for (const k in body) {
    bytes += byteLength(k);
    const v = body[k];
    if (k !== 'messages' || !Array.isArray(v)) {
      bytes += textBytes(v, true);
      continue;
    }
    for (const message of v) {
      if (message === null || typeof message !== 'object' || Array.isArray(message)) {
        bytes += textBytes(message, true);
        continue;
      }
      for (const field in message) {
        bytes += byteLength(field);
        const content = (message as Record<string, unknown>)[field];
        if (field !== 'content' || !Array.isArray(content)) {
          bytes += textBytes(content, true);
          continue;
        }
        for (const part of content) {
          if (isMediaPart(part)) media++;
          else bytes += textBytes(part, true);
        }
      }
    }
  }
  const messages = Array.isArray(body.messages) ? body.messages.length : 0;
  return tokensOf(bytes) + TOKENS_PER_MESSAGE * messages + MEDIA_PART_TOKENS * media;
}

/**
 * The most output a request may produce: the client's `max_completion_tokens` (or `max_tokens`)
 * for each of its `n` choices; undefined when it set no valid limit.
 */
export function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) return undefined;
  const n = typeof body.n === 'number' && Number.isSafeInteger(body.n) && body.n > 1 ? body.n : 1;
  return max * n;
}

/** The text a reply's choices hold (content, reasoning, refusal, tool calls' names and arguments, any other field), in tokens. */
export function estimateReplyTokens(choices: unknown): number {
  let bytes = 0;
  if (Array.isArray(choices)) for (const c of choices) bytes += textBytes((c as { message?: unknown } | null)?.message, false);
  return tokensOf(bytes);
}

/**
 * The text a stream produced, chunk by chunk: every string of every choice's delta (content,
 * reasoning, refusal, tool calls' names and arguments). Keys are not counted: each chunk repeats them.
 */
export class StreamedText {
  private bytes = 0;

  add(choices: unknown): void {
    if (!Array.isArray(choices)) return;
    for (const c of choices) this.bytes += textBytes((c as { delta?: unknown } | null)?.delta, false);
  }

  get tokens(): number {
    return tokensOf(this.bytes);
  }
}
