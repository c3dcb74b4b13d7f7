/**
 * Deadlines for many waiting requests on one timer. Every client write and
 * read waits under a deadline (the API's and the node's), and nearly all of
 * them are answered long before it: a Node timer per request, set and then
 * cleared, cost about 2.7 µs of a busy leader's event loop per write in its
 * profile (two timers each). Here a deadline is an entry in an insertion-
 * ordered set, cancelling it is a delete, and one timer is armed for the
 * earliest deadline; when it fires, every entry past its deadline expires and
 * the timer is armed for the earliest left.
 *
 * Deadlines are Date.now() milliseconds, as the API computes them.
 */

/** The longest delay setTimeout can hold (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A deadline waiting in a DeadlineQueue. */
export interface Deadline {
  readonly atMs: number;
  readonly onExpire: () => void;
}

/** Deadlines sharing one timer. */
export class DeadlineQueue {
  private readonly entries = new Set<Deadline>();
  private timer: NodeJS.Timeout | null = null;
  /** The deadline the timer is armed for (Infinity when disarmed). */
  private armedForMs = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** Call `onExpire` once `atMs` has passed, unless cancelled before. */
  add(atMs: number, onExpire: () => void): Deadline {
    const d: Deadline = { atMs, onExpire };
    this.entries.add(d);
    if (atMs < this.armedForMs) this.arm(atMs);
    return d;
  }

  /** Forget `d` (its request was answered); a no-op once it expired. */
  cancel(d: Deadline): void {
    this.entries.delete(d);
    // Nothing left to time: no timer may keep the process alive for answered requests.
    if (this.entries.size === 0) this.disarm();
  }

  /** How many deadlines are waiting. */
  size(): number {
    return this.entries.size;
  }

  private arm(atMs: number): void {
    this.disarm();
    this.armedForMs = atMs;
    this.timer = setTimeout(this.expire, Math.min(MAX_TIMER_MS, Math.max(0, atMs - this.now())));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedForMs = Number.POSITIVE_INFINITY;
  }

  private readonly expire = (): void => {
    this.timer = null;
    this.armedForMs = Number.POSITIVE_INFINITY;
    const now = this.now();
    const expired: Deadline[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.entries) {
      if (d.atMs <= now) expired.push(d);
      else if (d.atMs < next) next = d.atMs;
    }
    for (const d of expired) this.entries.delete(d);
    // Armed before the callbacks run, so that what they add finds the timer in place.
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    // Every expired deadline is told, even if one callback throws (the first throw is rethrown,
    // as a timer of its own would have thrown it).
    let failure: { error: unknown } | null = null;
    for (const d of expired) {
      try {
        d.onExpire();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
  };
}
