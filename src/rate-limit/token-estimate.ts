/** A rough prompt size before the reply tells the truth: about four characters a token, plus framing per message. */
export function estimatePromptTokens(messages: readonly Record<string, unknown>[]): number {
  let chars = 0;
  for (const m of messages) {
    const c = m?.content;
    if (typeof c === 'string') chars += c.length;
    else if (Array.isArray(c)) for (const p of c) chars += typeof p?.text === 'string' ? p.text.length : 0;
  }
  return Math.ceil(chars / 4) + 4 * messages.length;
}
