import {
  CompactedError,
  type LogStorage,
  limitSize,
  SnapshotUnavailableError,
  UnavailableError,
} from './storage.js';
import { type ConfState, type Entry, EntryType, type HardState, NONE, type Snapshot } from './types.js';

/**
 * LogStorage held in memory: what the simulator uses as each node's "disk",
 * and the reference the LMDB store must behave like. entries[0] is a dummy
 * standing for the snapshot point (its index and term), as in etcd-io/raft.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot;
  private ents: Entry[];

  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.snap = {
      meta: { index: 0, term: 0, confState: cloneConfState(confState) },
      data: new Uint8Array(0),
    };
    this.ents = [{ index: 0, term: 0, type: EntryType.Normal, data: new Uint8Array(0) }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.meta.confState) };
  }

  /** Persist the hard state. */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    if (this.ents.length === 1) throw new UnavailableError(lo);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError(i);
    if (i - offset >= this.ents.length) throw new UnavailableError(i);
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    if (this.snapshotUnavailable) throw new SnapshotUnavailableError();
    return this.snap;
  }

  /** For tests: make snapshot() fail as if a snapshot were being produced. */
  snapshotUnavailable = false;

  /** Replace the whole log and state machine point with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) throw new Error('MemoryStorage: snapshot is out of date');
    this.snap = snap;
    this.ents = [
      { index: snap.meta.index, term: snap.meta.term, type: EntryType.Normal, data: new Uint8Array(0) },
    ];
  }

  /** Record a snapshot of the state machine at applied index i (which must be in the log). */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.meta.index) return this.snap;
    if (i > this.lastIndex())
      throw new Error(`MemoryStorage: snapshot ${i} is past last index ${this.lastIndex()}`);
    this.snap = { meta: { index: i, term: this.term(i), confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Drop entries up to and including compactIndex (which must be covered by a snapshot or applied). */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) return;
    if (compactIndex > this.lastIndex())
      throw new Error(`MemoryStorage: compact ${compactIndex} is out of bound`);
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    const dummy: Entry = {
      index: head.index,
      term: head.term,
      type: EntryType.Normal,
      data: new Uint8Array(0),
    };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /** Append entries, overwriting any conflicting tail (entries must be contiguous). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    // Entries already compacted away are skipped.
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) {
      throw new Error(
        `MemoryStorage: missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`,
      );
    }
    this.ents = this.ents.slice(0, offset).concat(entries);
  }

  /** The last persisted hard state (for tests and the simulator's checkers). */
  persistedHardState(): HardState {
    return { ...this.hardState };
  }
}

/** A deep copy of a ConfState. */
export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
