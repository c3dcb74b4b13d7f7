import { CompactedError, type LogStorage, limitSize, UnavailableError } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { Unstable } from './unstable.js';

/**
 * The log as the core sees it: stable storage followed by unstable entries,
 * plus the commit and applied indexes (Raft §5.3).
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;
  /** The last index handed to the driver for applying (>= applied while applies are in flight). */
  applying: number;

  constructor(
    readonly storage: LogStorage,
    /** Upper bound on the bytes of committed entries handed out in one Ready. */
    readonly maxApplyBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term of entry i, or 0 when i is outside the log (compacted or past the end). */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return 0;
      throw e;
    }
  }

  matchTerm(i: number, t: number): boolean {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return false;
    return this.term(i) === t;
  }

  /**
   * Append ents after (index, logTerm) if our log matches there (Raft §5.3),
   * truncating conflicts; returns the new last index, or null on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new Error(`raft log: entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Append entries to the unstable tail; returns the new last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new Error(`raft log: append after ${after} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The index of the first entry of ents that is new or conflicts with the log; 0 if none. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= index whose term is <= term: where the leader may
   * probe next after a rejection (the fast backtrack of Raft §5.3's note).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i >= this.firstIndex() - 1; i--) {
      const t = this.term(i);
      if (t <= term) return { index: i, term: t };
    }
    return { index: i, term: 0 };
  }

  /** Entries the driver must persist (those not already being written). */
  unstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  /**
   * Committed entries not yet handed out for applying, limited to maxApplyBytes. They may not be
   * persisted locally yet: they are in the same or an earlier write than the Ready carrying them,
   * and the driver applies them in that write or a later one.
   */
  nextCommittedEntries(): Entry[] {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.slice(lo, this.committed + 1, this.maxApplyBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applying + 1, this.firstIndex());
  }

  /** Entries up to i have been handed out for applying. */
  applyingTo(i: number): void {
    if (i > this.applying) this.applying = i;
  }

  /** The snapshot the leader should send: the unstable one if any, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        throw new Error(
          `raft log: commit ${toCommit} is past last index ${this.lastIndex()} (corrupt or truncated log?)`,
        );
      }
      this.committed = toCommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new Error(
        `raft log: applied ${i} out of range [prev applied ${this.applied}, committed ${this.committed}]`,
      );
    }
    this.applied = i;
    if (i > this.applying) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Whether a candidate's log (lastIndex, lastTerm) is at least as up-to-date as ours (Raft §5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Commit maxIndex if it is an entry of the current term (Raft §5.4.2: never count older terms' replicas). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Reset the log to a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.unstable.restore(s);
  }

  /** Entries from i to the end, limited to maxBytes; throws CompactedError if i is compacted. */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) limited to maxBytes; throws CompactedError if lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1)
      throw new Error(`raft log: slice [${lo},${hi}) past last index ${this.lastIndex()}`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uoff = this.unstable.offset;
    if (lo < uoff) {
      const stored = this.storage.entries(lo, Math.min(hi, uoff), maxBytes);
      // Storage returned fewer than asked (size limit): do not append unstable ones after a gap.
      if (stored.length < Math.min(hi, uoff) - lo) return stored;
      ents = stored;
    }
    if (hi > uoff) {
      const u = this.unstable.slice(Math.max(lo, uoff), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxBytes);
  }
}
