import type { Entry, Snapshot } from './types.js';

/**
 * Entries and a snapshot the core has accepted but the driver has not yet
 * persisted. `offset` is the index of entries[0]; everything below it is in
 * stable storage (or in the unstable snapshot).
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** Entries in [offset, offsetInProgress) have been handed to the driver and are being written. */
  offsetInProgress: number;
  /** The snapshot has been handed to the driver and is being written. */
  snapshotInProgress = false;

  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed to the driver. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    return inProgress >= this.entries.length ? [] : this.entries.slice(inProgress);
  }

  /** The snapshot, if not yet handed to the driver. */
  nextSnapshot(): Snapshot | null {
    return this.snapshot && !this.snapshotInProgress ? this.snapshot : null;
  }

  /** Everything held now has been handed to the driver (a Ready carries it). */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /** The first index known only from the unstable snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  /** The last index held here, if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.meta.index : undefined;
  }

  /** The term of entry i if this holds it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.meta.index === i) return this.snapshot.meta.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** The driver persisted entries up to (i, t): forget them, unless they were overwritten since. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
      this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
    }
  }

  /** The driver persisted the snapshot at index i. */
  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.meta.index === i) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replace everything with a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.offset = s.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Append entries, truncating a conflicting unstable tail. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      // Replace everything unstable: the log is being rewritten from before offset.
      this.offset = after;
      this.offsetInProgress = this.offset;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
      // A write in progress may still land the replaced entries; their stableTo is then ignored
      // (term mismatch) and the newer write, which follows it in order, overwrites them.
      this.offsetInProgress = Math.min(this.offsetInProgress, after);
    }
  }

  /** Entries in [lo, hi), which must lie within the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    if (lo > hi || lo < this.offset || hi > this.offset + this.entries.length) {
      throw new Error(
        `unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.entries.length}]`,
      );
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
