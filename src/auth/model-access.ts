import type { Caller } from './caller.js';

/** Whether a caller may use a model: names match exactly, `prefix*` patterns by prefix; no list allows all. */
export function isModelAllowed(caller: Caller | undefined, model: string): boolean {
  if (!caller?.models) return true;
  return caller.models.some((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model));
}
