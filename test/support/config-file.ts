import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a CONFIG_FILE into a fresh temp folder and returns its path. */
export function writeConfig(yamlText: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gw-config-')), 'config.yaml');
  writeFileSync(path, yamlText);
  return path;
}
