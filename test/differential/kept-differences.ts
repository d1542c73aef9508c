import { PATH, KEY, type DiffCase } from './corpus.js';
import type { CaseResult } from './differential.js';

/** A difference from FastAPI that the service keeps on purpose, and why. */
export interface KeptDifference {
  id: string;
  reason: string;
  /** True when this reason accounts for every difference of the case. */
  covers(r: CaseResult): boolean;
}

const detailArray = (json: unknown): Record<string, unknown>[] | undefined => {
  const detail = json !== null && typeof json === 'object' ? (json as { detail?: unknown }).detail : undefined;
  return Array.isArray(detail) ? detail : undefined;
};
const only = (r: CaseResult, ...aspects: string[]) => r.differences.every((d) => aspects.includes(d.aspect));
const oursCode = (r: CaseResult) => (r.ours.json as { error?: { code?: unknown } } | undefined)?.error?.code;
const oursJsonInvalid = (r: CaseResult) => r.ours.status === 422 && detailArray(r.ours.json)?.[0]?.type === 'json_invalid';

/** What Python's json.detect_encoding makes of a body's first bytes (json.loads on bytes, as Starlette's request.json() calls it). */
export function pythonJsonEncoding(b: Buffer): string {
  if (b.subarray(0, 4).equals(Buffer.from([0xff, 0xfe, 0, 0])) || b.subarray(0, 4).equals(Buffer.from([0, 0, 0xfe, 0xff]))) return 'utf-32';
  if (b.subarray(0, 2).equals(Buffer.from([0xff, 0xfe])) || b.subarray(0, 2).equals(Buffer.from([0xfe, 0xff]))) return 'utf-16';
  if (b.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) return 'utf-8-sig';
  if (b.length >= 4) {
    if (!b[0]) return b[1] ? 'utf-16-be' : 'utf-32-be';
    if (!b[1]) return b[2] || b[3] ? 'utf-16-le' : 'utf-32-le';
  } else if (b.length === 2) {
    if (!b[0]) return 'utf-16-be';
    if (!b[1]) return 'utf-16-le';
  }
  return 'utf-8';
}

/** Whether FastAPI's HTTPBearer and the reference app accept the case's Authorization header (the first one, as Starlette reads it). */
function fastapiAcceptsKey(c: DiffCase): boolean {
  const header = c.authorization === undefined ? `Bearer ${KEY}` : (c.authorization ?? c.extraHeaders?.find(([k]) => k.toLowerCase() === 'authorization')?.[1]);
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  return header.slice(0, space).toLowerCase() === 'bearer' && header.slice(space + 1).trim() === KEY;
}

/** Whether the text has one of JSON's non-finite literals (`NaN`, `Infinity`, `-Infinity`, which Python's json reads as floats) outside strings. */
export function hasNonFiniteLiteral(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if ((text.startsWith('NaN', i) || text.startsWith('Infinity', i)) && !/[A-Za-z]/.test(text[i - 1] ?? '')) return true;
  }
  return false;
}

export const KEPT_DIFFERENCES: KeptDifference[] = [
  {
    id: 'fastapi-500',
    reason:
      'FastAPI itself answers 500 (a float out of range or NaN to echo, a lone surrogate, an input nested too deep to encode, bytes it cannot decode for the 422 body): the service answers what the request deserves instead.',
    covers: (r) => r.fastapi.status === 500,
  },
  {
    id: 'auth-401-detail',
    reason:
      'A refused key is 401 with WWW-Authenticate: Bearer on both; the service writes its own detail text (FastAPI: "Not authenticated" or the app\'s "Invalid API key") and OpenAI\'s error object.',
    covers: (r) => r.fastapi.status === 401 && r.ours.status === 401 && only(r, 'detail'),
  },
  {
    id: 'auth-before-body',
    reason:
      "Proposed, not in the issue's list: the service authenticates from the headers before it reads the body (a 401 costs no body read), so a key FastAPI refuses is 401 even when the body would fail to parse; FastAPI reads and parses the body before its dependencies and answers 400/422 first.",
    covers: (r) => r.ours.status === 401 && [400, 422].includes(r.fastapi.status) && !fastapiAcceptsKey(r.case),
  },
  {
    id: 'model-not-found',
    reason: 'A model the service does not serve is 404 model_not_found; the reference accepts any model name.',
    covers: (r) => r.fastapi.status === 200 && r.ours.status === 404 && oursCode(r) === 'model_not_found',
  },
  {
    id: 'echo-honours-n',
    reason:
      "The echo backend honours n (a training test double, issue #19): an n OpenAI would refuse (not an integer, below 1) or over echo's cap of 16 is 400 with param 'n'; the reference's own handler ignores n as an extra field.",
    covers: (r) =>
      r.fastapi.status === 200 &&
      r.ours.status === 400 &&
      only(r, 'status') &&
      (r.ours.json as { error?: { param?: unknown } } | undefined)?.error?.param === 'n',
  },
  {
    id: 'body-over-max-body-bytes',
    reason: 'A body over MAX_BODY_BYTES (10 MiB by default) is 413; FastAPI reads bodies of any size.',
    covers: (r) => r.ours.status === 413 && r.case.body.length > 10 * 1024 * 1024,
  },
  {
    id: 'non-finite-literals',
    reason: "NaN, Infinity and -Infinity are not JSON (RFC 8259): the service refuses them as json_invalid; Python's json reads them as floats.",
    covers: (r) => oursJsonInvalid(r) && hasNonFiniteLiteral(r.case.body.toString('latin1')),
  },
  {
    id: 'utf16-utf32-bodies',
    reason:
      "JSON exchanged between systems is UTF-8 (RFC 8259): UTF-16 and UTF-32 bodies are refused, as json_invalid, or as 400 when they are not even UTF-8; Python's json detects and decodes them.",
    covers: (r) => (oursJsonInvalid(r) || r.ours.status === 400) && /^utf-(16|32)/.test(pythonJsonEncoding(r.case.body)),
  },
  {
    id: 'validation-list-cap',
    reason: 'A 422 lists at most 100 problems (the first 100 FastAPI lists, the same); FastAPI lists all of them.',
    covers: (r) => {
      const theirs = detailArray(r.fastapi.json);
      const mine = detailArray(r.ours.json);
      return (
        r.fastapi.status === 422 &&
        r.ours.status === 422 &&
        only(r, 'detail') &&
        !!theirs &&
        !!mine &&
        theirs.length > 100 &&
        mine.length === 100 &&
        JSON.stringify(theirs.slice(0, 100)) === JSON.stringify(mine)
      );
    },
  },
  {
    id: 'trailing-slash-answered',
    reason: '/v1/chat/completions/ is answered like /v1/chat/completions (the original spec declares both paths); FastAPI redirects it with 307.',
    covers: (r) => r.case.target.split('?')[0] === `${PATH}/` && r.fastapi.status === 307,
  },
  {
    id: 'stream-honoured-and-validated',
    reason:
      'stream and stream_options are part of the service\'s contract: "stream": true answers text/event-stream, and a stream that is not a boolean or stream_options that is not an object is 422 (bool_type / dict_type); the reference ignores both as extra fields.',
    covers: (r) => {
      if (r.fastapi.status !== 200) return false;
      if (r.ours.status === 200) return only(r, 'media') && r.ours.media === 'text/event-stream';
      const detail = detailArray(r.ours.json);
      return (
        r.ours.status === 422 &&
        !!detail &&
        detail.every((d) => Array.isArray(d.loc) && d.loc.length === 2 && d.loc[0] === 'body' && ['stream', 'stream_options'].includes(d.loc[1] as string))
      );
    },
  },
];

export function keptReasonFor(r: CaseResult): KeptDifference | undefined {
  return r.differences.length ? KEPT_DIFFERENCES.find((k) => k.covers(r)) : undefined;
}
