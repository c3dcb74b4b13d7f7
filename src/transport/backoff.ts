/**
 * Exponential reconnect backoff with jitter: each failure doubles the wait up
 * to a ceiling, and the jitter keeps the members of a cluster that lost a
 * peer at the same moment from all reconnecting in lockstep.
 */
export class Backoff {
  private currentMs: number;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    this.currentMs = initialMs;
  }

  /** The wait before the next attempt (between half and all of the current step), then double the step. */
  next(): number {
    const step = this.currentMs;
    this.currentMs = Math.min(this.currentMs * 2, this.maxMs);
    return step / 2 + (this.random() * step) / 2;
  }

  /** Start again from the initial wait (after a connection proved healthy). */
  reset(): void {
    this.currentMs = this.initialMs;
  }
}
