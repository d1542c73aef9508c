import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ApiKeyStore, generateApiKey, sha256 } from './api-key.store.js';
import { authConfig } from './auth.config.js';
import { readKeyFile, type StoredKey } from './key-file.js';

/**
 * Fills the key store from API_KEYS and API_KEYS_FILE, and re-reads the file when it changes or on
 * SIGHUP. A bad file keeps the keys in force and logs why. With no key source at all, one key is
 * generated and printed once: the service never runs open.
 */
@Injectable()
export class KeySourceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  private plain: StoredKey[] = [];
  /** API_KEYS' names, which file entries may not reuse (they would share buckets, metrics and log name). */
  private plainNames = new Map<string, string>();
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private readonly onSighup = () => this.reload('SIGHUP');

  constructor(
    @Inject(ApiKeyStore) private readonly store: ApiKeyStore,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  onModuleInit(): void {
    const keys = (this.config.API_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    const jwt = !!(this.config.AUTH_JWT_JWKS_URL || this.config.AUTH_JWT_PUBLIC_KEY);
    if (keys.length === 0 && !this.config.API_KEYS_FILE && !jwt) {
      const key = generateApiKey();
      keys.push(key);
      process.stdout.write(`No API_KEYS configured: generated this key for this run (shown once):\n  ${key}\n`);
    }
    this.plain = keys.map((k, i) => ({ sha256: sha256(k), caller: { name: `key-${i + 1}` }, disabled: false }));
    this.plainNames = new Map(this.plain.map((k, i) => [k.caller.name, `key ${i + 1} of API_KEYS`]));
    const file = this.config.API_KEYS_FILE;
    if (file) {
      this.store.replace([...this.plain, ...readKeyFile(file, this.plainNames)]);
      if (this.config.API_KEYS_FILE_WATCH === 'true') this.watch(file);
      process.on('SIGHUP', this.onSighup);
    } else {
      this.store.replace(this.plain);
    }
    this.logger.log(`Accepting ${this.store.size} API key(s)${jwt ? ' and platform-issued JWTs' : ''}`);
  }

  /** Re-reads API_KEYS_FILE; on any problem the keys in force stay. */
  reload(why: string): boolean {
    const file = this.config.API_KEYS_FILE;
    if (!file) return false;
    try {
      const entries = readKeyFile(file, this.plainNames);
      this.store.replace([...this.plain, ...entries]);
      this.logger.log(`Reloaded ${entries.length} key(s) from API_KEYS_FILE (${why})`);
      return true;
    } catch (err) {
      this.logger.error(`API_KEYS_FILE not reloaded (${why}), keeping the ${this.store.size} key(s) in force: ${(err as Error).message}`);
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.watcher?.close();
    clearTimeout(this.debounce);
    process.off('SIGHUP', this.onSighup);
  }

  /** Watches the folder, so editors' and Kubernetes' replace-by-rename is seen as well as writes in place. */
  private watch(file: string): void {
    const name = basename(file);
    try {
      this.watcher = watch(dirname(file), (_event, changed) => {
        if (changed && changed !== name && !changed.startsWith('..')) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.reload('file changed'), 100);
      });
      this.watcher.unref();
    } catch (err) {
      this.logger.warn(`Cannot watch API_KEYS_FILE (${(err as Error).message}); send SIGHUP to reload it`);
    }
  }
}
