import { DkvError, ErrorCode } from '../errors.js';
import {
  CompactedError,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  entrySize,
  type HardState,
  type LogStorage,
  type Snapshot,
  UnavailableError,
} from '../raft/index.js';
import { decodeEntry, logKey, logKeyIndex } from './entry-codec.js';
import type { LmdbDbs } from './lmdb-dbs.js';
import type { MetaStore } from './meta-store.js';

/**
 * The core's synchronous view of the persisted Raft log, read straight from
 * LMDB (reads are memory-mapped and synchronous), with MemoryStorage's exact
 * semantics: firstIndex = compacted index + 1, term(compacted index) still
 * answers, CompactedError below it and UnavailableError past the end. Every
 * entry read is checksum-verified. Inside a write transaction callback the
 * same methods read that transaction's state.
 */
export class LmdbLogStorage implements LogStorage {
  constructor(
    private readonly dbs: LmdbDbs,
    private readonly meta: MetaStore,
  ) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.meta.hardState(), confState: this.meta.confState() };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const compacted = this.meta.compacted().index;
    if (lo <= compacted) throw new CompactedError(lo);
    const last = this.lastIndex();
    if (hi > last + 1) throw new UnavailableError(hi - 1);
    if (last === compacted) throw new UnavailableError(lo);
    const out: Entry[] = [];
    if (lo >= hi) return out;
    let size = 0;
    let expected = lo;
    for (const { key, value } of this.dbs.log.getRange({ start: logKey(lo), end: logKey(hi) })) {
      const index = logKeyIndex(key);
      if (index !== expected) throw missing(expected);
      const e = decodeEntry(index, value);
      size += entrySize(e);
      // Like limitSize: always at least one entry, then stop before passing maxBytes.
      if (out.length > 0 && size > maxBytes) return out;
      out.push(e);
      expected++;
    }
    if (expected !== hi) throw missing(expected);
    return out;
  }

  term(i: number): number {
    const compacted = this.meta.compacted();
    if (i < compacted.index) throw new CompactedError(i);
    if (i === compacted.index) return compacted.term;
    const raw = this.dbs.log.get(logKey(i));
    if (raw === undefined) {
      if (i > this.lastIndex()) throw new UnavailableError(i);
      throw missing(i);
    }
    return decodeEntry(i, raw).term;
  }

  lastIndex(): number {
    for (const key of this.dbs.log.getKeys({ reverse: true, limit: 1 })) return logKeyIndex(key);
    return this.meta.compacted().index;
  }

  firstIndex(): number {
    return this.meta.compacted().index + 1;
  }

  /**
   * The applied state as a snapshot: its data is empty because the KV data is
   * streamed lazily with NodeStore.snapshotChunks(meta.index). term(applied)
   * always answers because compaction never passes the applied index.
   */
  snapshot(): Snapshot {
    const index = this.meta.applied();
    return { meta: { index, term: this.term(index), confState: this.meta.confState() }, data: EMPTY_BYTES };
  }
}

/** An index between the first and last entries has no entry: the log has a hole. */
function missing(index: number): DkvError {
  return new DkvError(
    ErrorCode.DataLoss,
    `raft log entry ${index} is missing (a hole inside the log); stopping rather than serving wrong data`,
  );
}
