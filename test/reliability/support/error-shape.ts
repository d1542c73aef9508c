import { isDeepStrictEqual } from 'node:util';

interface Issue {
  type: string;
  loc: (string | number)[];
  msg: string;
  ctx?: { error?: unknown };
}

/**
 * The `error` object a 422 must carry beside FastAPI's `detail`, worked out from the detail as the
 * contract states it (README, API errors): the first problem named where it is (`body.model: Field
 * required`, or `body: JSON decode error at character N: <Python's message>`) and the others counted,
 * `param` the first field in OpenAI's `messages[0].content` style (null for the body as a whole and for
 * invalid JSON), `code` the first problem's pydantic type.
 */
export function expectedValidationError(detail: Issue[]): { message: string; type: string; param: string | null; code: string } {
  const first = detail[0];
  const more = detail.length - 1;
  const others = more === 0 ? '' : ` (and ${more} more problem${more === 1 ? '' : 's'})`;
  const jsonInvalid = first.type === 'json_invalid';
  const where = jsonInvalid
    ? `body: JSON decode error at character ${String(first.loc[1])}: ${String(first.ctx?.error)}`
    : `${first.loc.join('.')}: ${first.msg}`;
  let param = '';
  if (!jsonInvalid)
    for (const part of first.loc[0] === 'body' ? first.loc.slice(1) : first.loc) param += typeof part === 'number' ? `[${part}]` : param ? `.${part}` : part;
  return { message: `${where}${others}`, type: 'invalid_request_error', param: param || null, code: first.type };
}

/**
 * What is wrong with an error body, if anything. A 422 is FastAPI's `detail` list with OpenAI's `error`
 * beside it and nothing else ({@link expectedValidationError}); every other error is `{detail, error}`
 * with a `detail` string and an OpenAI error object.
 */
export function errorShapeProblem(json: any, status?: number): string | undefined {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 'not a JSON object';
  if (status !== undefined && (status === 422) !== Array.isArray(json.detail))
    return status === 422 ? 'a 422 without a detail list' : `a detail list on a ${status}`;
  if (Array.isArray(json.detail)) {
    const keys = Object.keys(json).sort();
    if (!isDeepStrictEqual(keys, ['detail', 'error'])) return `a 422 body with keys ${JSON.stringify(keys)}, not detail and error`;
    if (json.detail.length === 0) return 'a 422 with an empty detail list';
    const bad = json.detail.find((d: any) => !d || typeof d.type !== 'string' || !Array.isArray(d.loc) || typeof d.msg !== 'string' || !('input' in d));
    if (bad !== undefined) return `a malformed issue ${JSON.stringify(bad).slice(0, 200)}`;
    const expected = expectedValidationError(json.detail);
    return isDeepStrictEqual(json.error, expected)
      ? undefined
      : `a 422 error object ${JSON.stringify(json.error)?.slice(0, 300)}, expected ${JSON.stringify(expected).slice(0, 300)}`;
  }
  const e = json.error;
  if (typeof json.detail !== 'string') return 'no detail string';
  if (!e || typeof e.message !== 'string' || typeof e.type !== 'string' || !('param' in e) || !('code' in e)) return 'no OpenAI error object';
  if ((e.param !== null && typeof e.param !== 'string') || (e.code !== null && typeof e.code !== 'string')) return 'param/code neither string nor null';
  return undefined;
}
