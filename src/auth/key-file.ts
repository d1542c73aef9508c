import { plainToInstance } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Min, validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { JWT_CALLER_PREFIX, type Caller } from './caller.js';

/** One entry of API_KEYS_FILE: the key itself is never stored, only its SHA-256. */
export class KeyFileEntry {
  @IsString() @IsNotEmpty() name: string;
  @IsString() @Matches(/^[0-9a-f]{64}$/i, { message: 'sha256 must be 64 hex characters (the SHA-256 of the key)' }) sha256: string;
  @IsOptional() @IsArray() @IsString({ each: true }) models?: string[];
  @IsOptional() @IsInt() @Min(1) rpm?: number;
  @IsOptional() @IsInt() @Min(1) tpm?: number;
  @IsOptional() @IsBoolean() disabled?: boolean;
}

export interface StoredKey {
  sha256: Buffer;
  caller: Caller;
  disabled: boolean;
}

/**
 * Reads and validates API_KEYS_FILE: a list of entries, or `{keys: [...]}`. Throws with every problem's place.
 * `taken` maps names already in use elsewhere (API_KEYS' `key-<n>`) to where they come from.
 */
export function readKeyFile(path: string, taken: ReadonlyMap<string, string> = new Map()): StoredKey[] {
  const raw = parse(readFileSync(path, 'utf8')) as unknown;
  const list = Array.isArray(raw) ? raw : (raw as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error(`${path}: expected a list of key entries (or keys: [...])`);
  const problems: string[] = [];
  const names = new Set<string>();
  const entries = list.map((item, i) => {
    const entry = plainToInstance(KeyFileEntry, item);
    for (const e of validateSync(entry, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false })) {
      for (const [rule, m] of Object.entries(e.constraints ?? {}))
        problems.push(`[${i}].${e.property}: ${rule === 'whitelistValidation' ? 'unknown field' : m}`);
    }
    if (names.has(entry.name)) problems.push(`[${i}].name: '${entry.name}' is used twice`);
    if (taken.has(entry.name)) problems.push(`[${i}].name: '${entry.name}' is already the name of ${taken.get(entry.name)}`);
    if (typeof entry.name === 'string' && entry.name.startsWith(JWT_CALLER_PREFIX))
      problems.push(`[${i}].name: names starting with '${JWT_CALLER_PREFIX}' are kept for JWT callers`);
    names.add(entry.name);
    return entry;
  });
  if (problems.length > 0) throw new Error(`${path}:\n  ${problems.join('\n  ')}`);
  return entries.map((e) => ({
    sha256: Buffer.from(e.sha256, 'hex'),
    caller: { name: e.name, models: e.models, rpm: e.rpm, tpm: e.tpm },
    disabled: e.disabled ?? false,
  }));
}
