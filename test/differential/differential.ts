import { compareOutcomes, toOutcome, type Difference, type Outcome } from './compare.js';
import { KEY, type DiffCase } from './corpus.js';
import { sendRaw, type RawRequest } from './raw-http.js';

export interface CaseResult {
  case: DiffCase;
  fastapi: Outcome;
  ours: Outcome;
  differences: Difference[];
}

/** The request a case stands for, byte for byte the same whichever server it goes to. */
export function toRawRequest(c: DiffCase): RawRequest {
  const headers: [string, string][] = [['Host', '127.0.0.1']];
  const authorization = c.authorization === undefined ? `Bearer ${KEY}` : c.authorization;
  if (authorization !== null) headers.push(['Authorization', authorization]);
  const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
  if (contentType !== null) headers.push(['Content-Type', contentType]);
  headers.push(...(c.extraHeaders ?? []));
  headers.push(c.chunks ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(c.body.length)]);
  headers.push(['Connection', 'close']);
  return { method: c.method, target: c.target, headers, body: c.body, chunks: c.chunks };
}

/** Sends every case to both servers (a few at a time) and compares the answers. */
export async function runCorpus(cases: DiffCase[], fastapiPort: number, oursPort: number, concurrency = 4): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const req = toRawRequest(c);
      const [fastapi, ours] = await Promise.all([sendRaw(fastapiPort, req), sendRaw(oursPort, req)]).catch((err: Error) => {
        throw new Error(`${c.id}: ${err.message}`);
      });
      const a = toOutcome(fastapi);
      const b = toOutcome(ours);
      results[i] = { case: c, fastapi: a, ours: b, differences: compareOutcomes(a, b) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
