/**
 * The bytes of request bodies held at once across all in-flight requests. A request takes its
 * share before reading (its Content-Length) or as bytes arrive (chunked), and gives it back when
 * its response ends; a share that does not fit is refused, so a flood of bodies is answered
 * instead of buffered.
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Bytes held now. */
  get inUse(): number {
    return this.held;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }
}
