/** Whether a body is one of the service's two error shapes: FastAPI's 422 list, or `{detail, error}`. */
export function errorShapeProblem(json: any): string | undefined {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 'not a JSON object';
  if (Array.isArray(json.detail)) {
    if (Object.keys(json).length !== 1) return 'a 422 body with keys beside detail';
    const bad = json.detail.find((d: any) => !d || typeof d.type !== 'string' || !Array.isArray(d.loc) || typeof d.msg !== 'string' || !('input' in d));
    return bad === undefined ? undefined : `a malformed issue ${JSON.stringify(bad).slice(0, 200)}`;
  }
  const e = json.error;
  if (typeof json.detail !== 'string') return 'no detail string';
  if (!e || typeof e.message !== 'string' || typeof e.type !== 'string' || !('param' in e) || !('code' in e)) return 'no OpenAI error object';
  if ((e.param !== null && typeof e.param !== 'string') || (e.code !== null && typeof e.code !== 'string')) return 'param/code neither string nor null';
  return undefined;
}
