import { type Message, MessageType, type NodeId } from '../raft/index.js';

/**
 * How long appends take to be acknowledged, per peer: each append is timed
 * from a start moment to the acknowledgement that covers its last index.
 *
 * On a leader the start is the append leaving for a follower and the end the
 * follower's acknowledgement read back, which covers both network hops, the
 * follower's wait for its event loop and its durable write: the part of a
 * write's time that the leader's own durable write does not show, and what
 * `dkv_raft_append_round_trip_seconds` reports (etcd's peer round trip,
 * measured on the real appends rather than on probes). On a follower the
 * start is the append read from the leader and the end its acknowledgement
 * leaving (`dkv_raft_append_answer_seconds`): the round trip less this is
 * what the network and the leader's own loop added.
 */

/** Appends remembered per peer; past this the oldest are forgotten (a peer that stopped answering). */
export const MAX_TIMED_APPENDS = 256;

interface TimedAppend {
  /** Index of the append's last entry. */
  last: number;
  /** When its wait started, in the clock's milliseconds. */
  at: number;
}

/** Appends not yet acknowledged, per peer, and how long each took once it is. */
export class AppendTimer {
  private readonly waiting = new Map<NodeId, TimedAppend[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * An append with entries up to `last`, to or from `peer`, starts its wait (left for it, or was
   * read from it). An append whose entries were already timed (a resend after a rejection or a
   * lost message) keeps the first one's time: the wait is then that of the entries, retries
   * included.
   */
  started(peer: NodeId, last: number): void {
    let q = this.waiting.get(peer);
    if (q === undefined) {
      q = [];
      this.waiting.set(peer, q);
    }
    if (q.length > 0 && q[q.length - 1]!.last >= last) return;
    q.push({ last, at: this.now() });
    if (q.length > MAX_TIMED_APPENDS) q.shift();
  }

  /**
   * An acknowledgement of the log up to `index` was read from `peer` (or leaves for it): the
   * times (ms) of the appends it covers, oldest first, each reported once.
   */
  acked(peer: NodeId, index: number): number[] {
    const q = this.waiting.get(peer);
    if (q === undefined || q.length === 0 || q[0]!.last > index) return [];
    const now = this.now();
    const done: number[] = [];
    while (q.length > 0 && q[0]!.last <= index) done.push(now - q.shift()!.at);
    return done;
  }

  /**
   * Forget what was timed with `peer` (a log diverged: the leader backs up, the follower rejected
   * an append), or with everyone (this node's role changed): acknowledgements after that would
   * time the wrong appends.
   */
  forget(peer?: NodeId): void {
    if (peer === undefined) this.waiting.clear();
    else this.waiting.delete(peer);
  }

  /**
   * Start the wait of each append among `msgs` that carries entries; its peer is the message's
   * `end`: `to` for appends this node sends, `from` for appends it reads.
   */
  startAppends(msgs: readonly Message[], end: 'from' | 'to'): void {
    for (const m of msgs)
      if (m.type === MessageType.App && m.entries.length > 0) this.started(m[end], m.entries.at(-1)!.index);
  }

  /**
   * End the waits that the acknowledgements among `msgs` cover, calling `report` with each one's
   * peer (the message's `end`) and time. A rejection forgets that peer's waits instead: the
   * leader backs up and resends, so later acknowledgements would time the wrong appends.
   */
  endWithAcks(
    msgs: readonly Message[],
    end: 'from' | 'to',
    report: (peer: NodeId, ms: number) => void,
  ): void {
    for (const m of msgs) {
      if (m.type !== MessageType.AppResp) continue;
      const peer = m[end];
      if (m.reject) this.forget(peer);
      else for (const ms of this.acked(peer, m.index)) report(peer, ms);
    }
  }
}
