/**
 * Decides how much of the text generated so far is final: everything before the first stop string (which is
 * left out), less an ending that may still grow into a stop string and, for grammars that ask it, less
 * trailing white space. Text is released once, in order, so a stream never takes back what it sent.
 */
export class StopText {
  private text = '';
  private released = 0;
  private stopAt = -1;
  private readonly longest: number;

  constructor(
    private readonly stops: readonly string[],
    private readonly trimEnd = false,
  ) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Whether a stop string has been generated. */
  get stopped(): boolean {
    return this.stopAt >= 0;
  }

  /** Adds generated text; returns the text now final ('' while it is held back, and after a stop). */
  push(more: string): string {
    if (this.stopped) return '';
    const from = Math.max(0, this.text.length - this.longest + 1);
    this.text += more;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (this.stopAt < 0 || at < this.stopAt)) this.stopAt = at;
    }
    return this.take(this.stopped ? this.stopAt : this.text.length - this.held());
  }

  /** The generation ended: what was held back is final (without trailing white space when asked). */
  end(): string {
    if (this.stopped) return '';
    return this.take(this.trimEnd ? this.text.trimEnd().length : this.text.length);
  }

  private take(upTo: number): string {
    if (upTo <= this.released) return '';
    const out = this.text.slice(this.released, upTo);
    this.released = upTo;
    return out;
  }

  /** Length of the ending that is not final yet. */
  private held(): number {
    let hold = this.trimEnd ? this.text.length - this.text.trimEnd().length : 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.text.length); k > hold; k--) {
        if (this.text.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}
