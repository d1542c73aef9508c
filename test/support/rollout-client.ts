/*
 * Reads chat completions the way OpenPipe's ART client does when it turns rollouts into training data,
 * and throws, naming the check, where ART would refuse (or silently drop) what it got.
 *
 * ART source read (OpenPipe/ART, file @ blob commit in the code index):
 *   src/art/preprocessing/vllm_tokens.py (the file `src/art/model.py` imports as `.preprocessing.vllm_tokens`)
 *     attach_vllm_token_metadata_to_choice: top-level `prompt_token_ids` and `choices[i].token_ids`, read by position;
 *     attach_completion_token_metadata: `usage.completion_tokens` must be a non-negative int and equal the choice's
 *     token count (one choice) or their sum (several); a count is len(token_ids), else len(logprobs.content).
 *   src/art/preprocessing/tokenize.py @ d2fa2a506cea0f55810bf4e271978d9028c5e313
 *     a choice with `logprobs: null` is left out of training; "Trainable Choice is missing vLLM
 *     prompt_token_ids/token_ids"; "Choice logprob length does not match vLLM completion token ids".
 *   src/art/local/tokenize.py @ 779559fd0c68ce073cbd041447f88aacf1d9f585 (June 2025; its server ran vLLM with
 *     `return_tokens_as_token_ids=True`, src/art/dev/openai_server.py): asserts "Chat completion choices must have
 *     logprobs" and reads ids as `int(token.split(":")[1])` from `logprobs.content[].token`.
 *   src/art/openai.py (the version importing .preprocessing.policy_spans): consume_chat_completion_stream builds the
 *     choices from the FIRST chunk's choices and then zips every chunk's choices with them BY POSITION; it copies a
 *     chunk's `prompt_token_ids`, concatenates `token_ids` and `logprobs.content`, and sets `usage = chunk.usage` on
 *     every chunk (so only a usage in the last chunk survives).
 * Streams go through openai-python's AsyncStream (src/openai/_streaming.py), which stops at `data: [DONE]` and raises
 * APIError on a frame with an `error` key. It does NOT fail a stream that ends cleanly without `[DONE]` (only a cut
 * connection fails, in httpx); the `stream-incomplete` check here is stricter than ART, as issue #19 asks.
 * Checks marked "beyond ART" are not in ART's code: they guard what issue #19 promises a trainer.
 */

export type RolloutCheck =
  | 'http-status'
  | 'no-choices'
  | 'logprobs-missing'
  | 'top-logprobs-null'
  | 'token-ids-missing'
  | 'token-ids-disagree'
  | 'prompt-token-ids-missing'
  | 'logprobs-length'
  | 'usage-invalid'
  | 'usage-mismatch'
  | 'stream-error'
  | 'stream-incomplete'
  | 'stream-choice-position';

/** A rollout the trainer could not use; `check` names the check that failed. */
export class RolloutCheckError extends Error {
  constructor(
    readonly check: RolloutCheck,
    message: string,
    readonly detail?: unknown,
  ) {
    super(`${check}: ${message}`);
  }
}

export interface RolloutOptions {
  /** Overrides the body's `stream`. */
  stream?: boolean;
  /** ART matches streamed choices by position (the default); `index` reads them by their `index`, as a correct reader would. */
  matchChoicesBy?: 'position' | 'index';
  /** Current ART needs `prompt_token_ids` to train; older ART rebuilt the prompt itself. Default true. */
  requirePromptTokenIds?: boolean;
  headers?: Record<string, string>;
}

export interface RolloutChoice {
  index: number;
  content: string;
  finishReason: string | null;
  tokenIds: number[];
  logprobs: number[];
  /** Where the token ids were read: `choices[].token_ids`, or `logprobs.content[].token` written `token_id:<id>`. */
  tokenIdsFrom: 'token_ids' | 'token_id:';
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Trajectory {
  model: string;
  promptTokenIds: number[] | null;
  choices: RolloutChoice[];
  usage: Usage | null;
  headers: Headers;
  /** The reply as received: the JSON body, or every parsed stream chunk. */
  raw: unknown;
}

/** Parsed reply before ART's checks. */
interface Gathered {
  model: string;
  promptTokenIds: number[] | null;
  usage: any;
  choices: { index: number; content: string; finishReason: string | null; tokenIds: number[] | null; logprobs: any[] | null }[];
}

/** POSTs `body` to `${baseURL}/chat/completions` and returns the trajectory ART would train on, or throws a RolloutCheckError. */
export async function runRollout(baseURL: string, apiKey: string, body: Record<string, unknown>, options: RolloutOptions = {}): Promise<Trajectory> {
  const sent = options.stream === undefined ? body : { ...body, stream: options.stream };
  const res = await fetch(`${baseURL.replace(/\/$/, '')}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...options.headers },
    body: JSON.stringify(sent),
  });
  if (!res.ok) {
    const text = await res.text();
    throw new RolloutCheckError('http-status', `HTTP ${res.status}: ${text}`, { status: res.status, body: text });
  }
  let gathered: Gathered;
  let raw: unknown;
  if (sent.stream) {
    const chunks = await readStream(res);
    gathered = gatherStream(chunks, options.matchChoicesBy ?? 'position');
    raw = chunks;
  } else {
    raw = await res.json();
    gathered = gatherCompletion(raw);
  }
  return { ...check(gathered, options.requirePromptTokenIds ?? true), headers: res.headers, raw };
}

function gatherCompletion(json: any): Gathered {
  return {
    model: json.model,
    promptTokenIds: json.prompt_token_ids ?? null,
    usage: json.usage ?? null,
    choices: (json.choices ?? []).map((c: any) => ({
      index: c.index,
      content: c.message?.content ?? '',
      finishReason: c.finish_reason ?? null,
      tokenIds: Array.isArray(c.token_ids) ? c.token_ids : null,
      logprobs: c.logprobs ? (c.logprobs.content ?? c.logprobs.refusal ?? []) : null,
    })),
  };
}

/** SSE frames as openai-python decodes them: events split at blank lines, stop at `[DONE]`, an `error` frame raises. */
async function readStream(res: Response): Promise<any[]> {
  const chunks: any[] = [];
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const data = event
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (!data) continue;
        if (data.startsWith('[DONE]')) {
          await reader.cancel();
          return chunks;
        }
        const chunk = JSON.parse(data);
        if (chunk?.error) throw new RolloutCheckError('stream-error', `error frame: ${JSON.stringify(chunk.error)}`, chunk.error);
        chunks.push(chunk);
      }
    }
  } catch (err) {
    if (err instanceof RolloutCheckError) throw err;
    throw new RolloutCheckError('stream-incomplete', `the stream broke after ${chunks.length} chunks without data: [DONE] (${String(err)})`, err);
  }
  throw new RolloutCheckError('stream-incomplete', `the stream ended after ${chunks.length} chunks without data: [DONE]`);
}

type Acc = Gathered['choices'][number];

/** ART's update_chat_completion: choices from the first chunk, then matched by position (or by index). */
function gatherStream(chunks: any[], matchBy: 'position' | 'index'): Gathered {
  let choices: Acc[] | undefined;
  const byIndex = new Map<number, Acc>();
  const out: Gathered = { model: chunks[0]?.model, promptTokenIds: null, usage: null, choices: [] };
  const fresh = (c: any): Acc => ({ index: c.index, content: '', finishReason: null, tokenIds: null, logprobs: null });
  for (const chunk of chunks) {
    const chunkChoices: any[] = chunk.choices ?? [];
    choices ??= chunkChoices.map(fresh);
    if (chunk.prompt_token_ids != null) out.promptTokenIds = chunk.prompt_token_ids;
    chunkChoices.forEach((cc, position) => {
      let acc: Acc | undefined;
      if (matchBy === 'index') {
        acc = byIndex.get(cc.index) ?? byIndex.set(cc.index, fresh(cc)).get(cc.index);
      } else {
        acc = choices![position];
        if (!acc) return; // zip() stops at the shorter list
        if (acc.index !== cc.index) {
          throw new RolloutCheckError(
            'stream-choice-position',
            `chunk choice at position ${position} has index ${cc.index}; ART's reader would merge it into choice ${acc.index}`,
          );
        }
      }
      if (cc.token_ids?.length) acc!.tokenIds = [...(acc!.tokenIds ?? []), ...cc.token_ids];
      if (cc.logprobs) acc!.logprobs = [...(acc!.logprobs ?? []), ...(cc.logprobs.content ?? cc.logprobs.refusal ?? [])];
      if (cc.finish_reason) acc!.finishReason = cc.finish_reason;
      if (cc.delta?.content) acc!.content += cc.delta.content;
    });
    out.usage = chunk.usage ?? null;
  }
  out.choices = matchBy === 'index' ? [...byIndex.values()].sort((a, b) => a.index - b.index) : (choices ?? []);
  return out;
}

function check(g: Gathered, requirePromptTokenIds: boolean): Omit<Trajectory, 'headers' | 'raw'> {
  if (!g.choices.length) throw new RolloutCheckError('no-choices', 'the reply has no choices');
  const choices = g.choices.map((c): RolloutChoice => {
    const where = `choice ${c.index}`;
    if (!c.logprobs) throw new RolloutCheckError('logprobs-missing', `${where} has no logprobs; ART leaves it out of training`);
    // Beyond ART: OpenAI's type declares top_logprobs a list, and issue #19 promises it is never null.
    if (c.logprobs.some((e) => !Array.isArray(e?.top_logprobs)))
      throw new RolloutCheckError('top-logprobs-null', `${where} has a logprobs entry whose top_logprobs is not a list`);
    const fromTokens = c.logprobs.every((e) => typeof e?.token === 'string' && /^token_id:\d+$/.test(e.token))
      ? c.logprobs.map((e) => Number(e.token.slice(9)))
      : null;
    const ids = c.tokenIds ?? fromTokens;
    if (!ids) throw new RolloutCheckError('token-ids-missing', `${where} has neither token_ids nor logprobs tokens written token_id:<id>`);
    // Beyond ART: when both sources are there they must name the same tokens.
    if (c.tokenIds && fromTokens && fromTokens.join() !== c.tokenIds.join())
      throw new RolloutCheckError('token-ids-disagree', `${where}: token_ids ${c.tokenIds.join(',')} but logprobs say ${fromTokens.join(',')}`);
    if (c.logprobs.length !== ids.length) throw new RolloutCheckError('logprobs-length', `${where}: ${c.logprobs.length} logprobs for ${ids.length} token ids`);
    return {
      index: c.index,
      content: c.content,
      finishReason: c.finishReason,
      tokenIds: ids,
      logprobs: c.logprobs.map((e) => e.logprob),
      tokenIdsFrom: c.tokenIds ? 'token_ids' : 'token_id:',
    };
  });
  if (requirePromptTokenIds && !Array.isArray(g.promptTokenIds)) throw new RolloutCheckError('prompt-token-ids-missing', 'the reply has no prompt_token_ids');
  const total = g.usage?.completion_tokens;
  if (total != null) {
    if (!Number.isInteger(total) || total < 0) throw new RolloutCheckError('usage-invalid', `usage.completion_tokens is ${JSON.stringify(total)}`);
    const counts = choices.map((c) => c.tokenIds.length);
    const summed = counts.reduce((a, b) => a + b, 0);
    if (summed !== total)
      throw new RolloutCheckError('usage-mismatch', `token counts ${JSON.stringify(counts)} sum to ${summed}, usage.completion_tokens is ${total}`);
  }
  return { model: g.model, promptTokenIds: g.promptTokenIds, choices, usage: g.usage };
}
