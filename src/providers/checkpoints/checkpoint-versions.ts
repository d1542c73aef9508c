import type { Checkpoint } from '../checkpoint-name.js';

/** Finds the concrete version (`step42`) a checkpoint name without one stands for now. */
export interface VersionResolver {
  /** The newest version of `checkpoint.base`; a 404 `model_not_found` when there is none. */
  resolve(checkpoint: Checkpoint): Promise<string>;
}

interface Known {
  version: string;
  until: number;
}

/** The most checkpoint names whose answers are kept at once. */
export const MAX_KNOWN_CHECKPOINTS = 10_000;

/**
 * A resolver's answers, kept for `ttlMs` per checkpoint name; one question at a time per name
 * however many requests wait for it. A failure is not kept: the next request asks again.
 */
export class CheckpointVersions {
  private readonly known = new Map<string, Known>();
  private readonly asking = new Map<string, Promise<string>>();

  constructor(
    private readonly resolver: VersionResolver,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The version `checkpoint` (a name without a pinned version) stands for. */
  version(checkpoint: Checkpoint): Promise<string> {
    const known = this.known.get(checkpoint.base);
    if (known && known.until > this.now()) return Promise.resolve(known.version);
    return this.asking.get(checkpoint.base) ?? this.ask(checkpoint);
  }

  /**
   * The upstream does not have `stale` (it was removed, or never loads): asks again now, unless
   * another request already learned a different version since. Returns the version to try next.
   */
  refresh(checkpoint: Checkpoint, stale: string): Promise<string> {
    const known = this.known.get(checkpoint.base);
    if (known && known.version !== stale && known.until > this.now()) return Promise.resolve(known.version);
    if (known?.version === stale) this.known.delete(checkpoint.base);
    return this.asking.get(checkpoint.base) ?? this.ask(checkpoint);
  }

  private ask(checkpoint: Checkpoint): Promise<string> {
    const { base } = checkpoint;
    const asked = this.resolver.resolve(checkpoint).then(
      (version) => {
        this.asking.delete(base);
        // Bounded: names clients make up cannot grow it without end (the oldest answer goes first).
        this.known.delete(base);
        if (this.known.size >= MAX_KNOWN_CHECKPOINTS) this.known.delete(this.known.keys().next().value as string);
        this.known.set(base, { version, until: this.now() + this.ttlMs });
        return version;
      },
      (err: unknown) => {
        this.asking.delete(base);
        throw err;
      },
    );
    this.asking.set(base, asked);
    return asked;
  }
}
