/**
 * When a busy leader holds new proposals back, so that they gather into one larger append (one
 * Ready, one AppendEntries per follower, one transaction per node) instead of one per event-loop
 * turn: the per-append costs then fall on more entries.
 *
 * A leader with at least HOLD_MIN_WAITING writes of its own clients waiting holds proposals while
 * one of its appends is in flight, or two once TWO_APPENDS_MIN_WAITING wait. Measured in
 * interleaved pairs: holding behind two appends gave 256 connections about +12% writes/s over not
 * holding, and behind one 3-6% less than behind two; at 64 connections one beat two in three
 * pairs of three (writes/s +3 to +20%, p99 21.7-24.4 ms vs 24.8-31.2, CPU per write 186-196 µs vs
 * 195-233). With few clients the wait would cost more than it saves (16 connections: about -4.5%
 * when holding), so they are not held.
 *
 * An append stops holding once it is committed or once the leader's own write of it is done,
 * whichever comes first. The leader's write is the slower of the two under load: at 64
 * connections its groups took 3.8 ms on average from flush to disk (they commit on lmdb-js's
 * writer thread, which waits for a core), a follower's 1.5 ms, and a quorum of the two followers
 * commits without the leader's copy. Holding until the leader's write paced every round by the
 * slowest copy; releasing at commit gave more writes/s in five of six interleaved pairs at 64
 * connections (+32, +4, +13, +4, -3, +4%) and less CPU per write in four.
 */
export const HOLD_MIN_WAITING = 32;
export const TWO_APPENDS_MIN_WAITING = 128;

/** An append in flight, as handed out by AppendHold.started. */
export interface HeldAppend {
  /** Index of the append's last entry. */
  readonly last: number;
}

/** The leader's appends that still hold proposals back: neither committed nor written here. */
export class AppendHold {
  private readonly inFlight = new Set<HeldAppend>();

  /** An append of entries up to index `last` has started. */
  started(last: number): HeldAppend {
    const a: HeldAppend = { last };
    this.inFlight.add(a);
    return a;
  }

  /** The leader's own write of `a` is done (or failed). Whether this released it. */
  written(a: HeldAppend): boolean {
    return this.inFlight.delete(a);
  }

  /** The commit index reached `index`: appends up to it stop holding. Whether any was released. */
  committed(index: number): boolean {
    let released = false;
    for (const a of this.inFlight) {
      if (a.last <= index) {
        this.inFlight.delete(a);
        released = true;
      }
    }
    return released;
  }

  /** Whether new proposals wait, with `waiting` writes of this leader's clients outstanding. */
  holds(waiting: number): boolean {
    if (waiting < HOLD_MIN_WAITING) return false;
    return this.inFlight.size >= (waiting >= TWO_APPENDS_MIN_WAITING ? 2 : 1);
  }

  /** Appends still holding. */
  size(): number {
    return this.inFlight.size;
  }
}
