import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateApiKey, sha256 } from './api-key.store.js';

/**
 * `npm run key:create -- --name team-a [--models a,b*] [--rpm N] [--tpm N]`: prints a new random key
 * once, and the API_KEYS_FILE entry to add (which holds only the key's SHA-256).
 */
function main(): void {
  const { values } = parseArgs({
    options: { name: { type: 'string' }, models: { type: 'string', multiple: true }, rpm: { type: 'string' }, tpm: { type: 'string' } },
  });
  if (!values.name) throw new Error('--name is required');
  if (values.name.startsWith('jwt:')) throw new Error("--name may not start with 'jwt:' (kept for JWT callers)");
  const int = (flag: string, v?: string) => {
    if (v === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(v)) throw new Error(`--${flag} must be a positive whole number`);
    return Number(v);
  };
  const key = generateApiKey();
  const models = values.models
    ?.flatMap((m) => m.split(','))
    .map((m) => m.trim())
    .filter(Boolean);
  const entry = {
    name: values.name,
    sha256: sha256(key).toString('hex'),
    ...(models?.length ? { models } : {}),
    rpm: int('rpm', values.rpm),
    tpm: int('tpm', values.tpm),
  };
  const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
  process.stdout.write(`New key for '${values.name}' (shown once, store it now):\n\n  ${key}\n\nAdd this entry to API_KEYS_FILE:\n\n${stringify([clean])}`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`key:create: ${(err as Error).message}\n`);
  process.exit(2);
}
