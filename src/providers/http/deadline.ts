import { DeadlineExceeded } from './upstream-errors.js';

/**
 * An AbortSignal that fires when the client's signal does, or when the deadline passes without a
 * `touch()` (for streams, the silence between chunks). `dispose()` clears the timer and listener.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.controller.abort(this.parent.reason);

  constructor(
    private readonly parent: AbortSignal,
    private readonly ms: number,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Restarts the deadline (a chunk arrived). */
  touch(): void {
    if (this.ms <= 0 || this.controller.signal.aborted) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.controller.abort(new DeadlineExceeded()), this.ms);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onAbort);
  }
}
