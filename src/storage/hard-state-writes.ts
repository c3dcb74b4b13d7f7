import type { HardState } from '../raft/index.js';

/**
 * Which hard states are written with their Ready, and which wait for a later write.
 *
 * Raft's hard state is term, vote and commit index. Term and vote must be durable before the node
 * acts on them (a vote granted, a higher term seen). The commit index need not be: it is volatile
 * state in the Raft paper (Figure 2), and a restarted node learns it again from its leader. Written
 * with every append, it dirtied the meta DB's page in every durable transaction, one more page for
 * every node to write and flush per commit. A hard state that moves only the commit index is
 * therefore kept here and written by the next transaction that writes the meta DB anyway: the
 * applied-state write (at least every APPLY_WRITE_DELAY_MS under load), or at close.
 *
 * The commit index read back on restart is then the larger of the one written and the applied
 * index, since every applied entry was committed (LmdbLogStorage.initialState). A kept hard state
 * is only ever written in a transaction queued after the one holding the Ready's entries, so the
 * index it names is in the log it is read back with.
 */
export class HardStateWrites {
  /** Term and vote of the hard state last handed out for writing (or read from disk). */
  private term: number;
  private vote: string;
  /** The newest hard state kept back, not yet handed out. */
  private kept: HardState | null = null;

  constructor(stored: HardState) {
    this.term = stored.term;
    this.vote = stored.vote;
  }

  /**
   * A Ready's hard state, in the order the Readies come: returned if it must be written with the
   * Ready (its term or vote is new), else kept for a later write and null returned.
   */
  forReady(hs: HardState | null): HardState | null {
    if (hs === null) return null;
    if (hs.term === this.term && hs.vote === this.vote) {
      this.kept = hs;
      return null;
    }
    this.term = hs.term;
    this.vote = hs.vote;
    this.kept = null; // this one is newer and is written first
    return hs;
  }

  /** The kept hard state, for a transaction queued now that writes the meta DB anyway; null if none. */
  take(): HardState | null {
    const hs = this.kept;
    this.kept = null;
    return hs;
  }
}
