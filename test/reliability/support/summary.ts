import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUMMARY_FILE = join(dirname(fileURLToPath(import.meta.url)), '../../../test-output/reliability-summary.json');

/**
 * Records one part's figures: a console line now, and the part's entry in
 * test-output/reliability-summary.json (merged, so each spec file adds its own).
 */
export function recordSummary(part: string, figures: Record<string, unknown>): void {
  console.log(
    `[reliability] ${part}: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v as string | number | boolean | null | undefined)}`)
      .join(' ')}`,
  );
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(readFileSync(SUMMARY_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    all = {};
  }
  const previous = (all[part] as Record<string, unknown> | undefined) ?? {};
  all[part] = { ...previous, ...figures, recordedAt: new Date().toISOString() };
  mkdirSync(dirname(SUMMARY_FILE), { recursive: true });
  writeFileSync(SUMMARY_FILE, `${JSON.stringify(all, null, 2)}\n`);
}
