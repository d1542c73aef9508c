import { hash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from './caller.js';

interface KeyEntry {
  caller: Caller;
  disabled: boolean;
}

export function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/** A fresh random API key. */
export function generateApiKey(): string {
  return `sk-${randomBytes(24).toString('base64url')}`;
}

/**
 * The API keys the service accepts, held only as SHA-256 digests. A presented key is hashed and
 * looked up by its whole digest: a lookup's timing depends only on the digest of what was sent,
 * which tells nothing about a stored key, so no constant-time comparison follows it.
 */
@Injectable()
export class ApiKeyStore {
  private entries = new Map<string, KeyEntry>();

  /** Replaces every key at once (a reload never leaves a half-read set). */
  replace(entries: { sha256: Buffer; caller: Caller; disabled?: boolean }[]): void {
    const next = new Map<string, KeyEntry>();
    for (const e of entries) next.set(e.sha256.toString('base64'), { caller: e.caller, disabled: e.disabled ?? false });
    this.entries = next;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The caller for a presented key; `disabled` when the key is known but switched off; null when unknown. */
  lookup(key: string): Caller | 'disabled' | null {
    const entry = this.entries.get(hash('sha256', key, 'base64'));
    if (!entry) return null;
    return entry.disabled ? 'disabled' : entry.caller;
  }
}
