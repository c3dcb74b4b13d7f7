import type { NodeId } from '../raft/index.js';

/**
 * How long a leader's appends take to come back acknowledged, per follower:
 * from the moment an append carrying entries up to index i leaves to the
 * follower's acknowledgement of i, which covers both network hops, the
 * follower's wait for its event loop and its durable write. It is the part of
 * a write's time that the leader's own durable write does not show, and what
 * `dkv_raft_append_round_trip_seconds` reports (etcd's peer round trip,
 * measured on the real appends rather than on probes).
 */

/** Appends remembered per follower; past this the oldest are forgotten (a follower that stopped answering). */
export const MAX_TIMED_APPENDS = 256;

interface SentAppend {
  /** Index of the append's last entry. */
  last: number;
  /** When it left, in the clock's milliseconds. */
  at: number;
}

/** The leader's appends in flight to each follower, and their round trips once acknowledged. */
export class AppendTimer {
  private readonly inFlight = new Map<NodeId, SentAppend[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * An append with entries up to `last` left for `peer`. An append whose entries were already
   * sent (a resend after a rejection or a lost message) keeps the first send's time: the round
   * trip is then that of the entries, retries included.
   */
  sent(peer: NodeId, last: number): void {
    let q = this.inFlight.get(peer);
    if (q === undefined) {
      q = [];
      this.inFlight.set(peer, q);
    }
    if (q.length > 0 && q[q.length - 1]!.last >= last) return;
    q.push({ last, at: this.now() });
    if (q.length > MAX_TIMED_APPENDS) q.shift();
  }

  /**
   * `peer` acknowledged its log up to `index`: the round trips (ms) of the appends that
   * acknowledgement covers, oldest first, each reported once.
   */
  acked(peer: NodeId, index: number): number[] {
    const q = this.inFlight.get(peer);
    if (q === undefined || q.length === 0 || q[0]!.last > index) return [];
    const now = this.now();
    const done: number[] = [];
    while (q.length > 0 && q[0]!.last <= index) done.push(now - q.shift()!.at);
    return done;
  }

  /**
   * Forget what was sent to `peer` (its log diverged and the leader backs up), or to everyone
   * (this node stopped leading): acknowledgements after that would time the wrong sends.
   */
  forget(peer?: NodeId): void {
    if (peer === undefined) this.inFlight.clear();
    else this.inFlight.delete(peer);
  }
}
