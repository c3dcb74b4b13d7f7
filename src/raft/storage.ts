import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * The read side of stable storage that the core consults: entries, terms and
 * the snapshot already persisted by the driver. Modelled on etcd-io/raft's
 * Storage interface; reads are synchronous (LMDB reads are).
 */
export interface LogStorage {
  /** The persisted hard state and the membership as of the last snapshot/applied index. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any, stopping once their size passes maxBytes. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of entry i; throws CompactedError / UnavailableError outside the kept range. */
  term(i: number): number;
  /** The index of the last entry in storage (the snapshot index if the log is empty). */
  lastIndex(): number;
  /** The index of the first entry still in storage (snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot; throws SnapshotUnavailableError if it is being made. */
  snapshot(): Snapshot;
}

/** Asked for an entry that was compacted into a snapshot. */
export class CompactedError extends Error {
  readonly code = 'RAFT_COMPACTED';
  constructor(index: number) {
    super(`raft log: index ${index} is compacted`);
  }
}

/** Asked for an entry past the end of the log. */
export class UnavailableError extends Error {
  readonly code = 'RAFT_UNAVAILABLE';
  constructor(index: number) {
    super(`raft log: index ${index} is not available`);
  }
}

/** The snapshot is being produced and cannot be sent yet; the leader retries later. */
export class SnapshotUnavailableError extends Error {
  readonly code = 'RAFT_SNAPSHOT_UNAVAILABLE';
  constructor() {
    super('raft log: snapshot temporarily unavailable');
  }
}

/** A rough size of an entry, for message and apply batching limits. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

/** The longest prefix of ents whose total size stays within maxBytes (always at least one entry). */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}
