import { DkvError, ErrorCode } from '../errors.js';
import {
  CompactedError,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  entrySize,
  type HardState,
  type LogStorage,
  limitSize,
  type Snapshot,
  UnavailableError,
} from '../raft/index.js';
import { decodeEntry, encodeEntry, logKey, logKeyIndex } from './entry-codec.js';
import { EntryTail } from './entry-tail.js';
import type { LmdbDbs } from './lmdb-dbs.js';
import type { MetaStore } from './meta-store.js';
import { type BlindWrite, type WriteOp, writeInTxn } from './write-queue.js';

/**
 * The most entries, and bytes of entries, kept in memory after they are written (EntryTail):
 * at 12,000 writes/s, the last 85 ms, several times what a follower holds between appending and
 * applying. Memory is what bounds it: every held entry keeps its payload's buffer alive.
 */
const TAIL_MAX_ENTRIES = 1024;
const TAIL_MAX_BYTES = 1024 * 1024;

/**
 * The core's synchronous view of the persisted Raft log, with MemoryStorage's
 * exact semantics: firstIndex = compacted index + 1, term(compacted index)
 * still answers, CompactedError below it and UnavailableError past the end.
 *
 * The log is written only through appendWrite (a blind write, see
 * write-queue.ts), compactInTxn and resetInTxn, and those keep in memory what
 * they wrote: the compaction point, the last index and the newest entries
 * (EntryTail). Reads answer from memory where they can and from LMDB otherwise
 * (memory-mapped, synchronous, every entry checksum-verified). Memory runs
 * ahead of what is committed by the writes already produced: the core reads
 * back only entries it was told are persisted, and a write that fails (its
 * transaction rolls back, or an append's predecessor is missing) calls
 * invalidate(). An append's conflicting tail is found in memory, which holds
 * the log's last index exactly; that the entry before it exists is checked
 * in the transaction that writes it, so a gap never reaches the disk.
 */
export class LmdbLogStorage implements LogStorage {
  /** The compaction point (index and term of the last entry no longer in the log); null: read LMDB. */
  private point: { index: number; term: number } | null = null;
  /** The index of the last entry; null: read LMDB. */
  private last: number | null = null;
  private readonly tail = new EntryTail(TAIL_MAX_ENTRIES, TAIL_MAX_BYTES);

  constructor(
    private readonly dbs: LmdbDbs,
    private readonly meta: MetaStore,
  ) {}

  /**
   * The hard state to restart from. Its commit index is at least the applied index: a hard state
   * that moved only the commit index is written lazily (HardStateWrites), and every applied entry
   * was committed.
   */
  initialState(): { hardState: HardState; confState: ConfState } {
    const hs = this.meta.hardState();
    const commit = Math.max(hs.commit, this.meta.applied());
    return { hardState: { ...hs, commit }, confState: this.meta.confState() };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const compacted = this.compacted().index;
    if (lo <= compacted) throw new CompactedError(lo);
    const last = this.lastIndex();
    if (hi > last + 1) throw new UnavailableError(hi - 1);
    if (last === compacted) throw new UnavailableError(lo);
    if (lo >= hi) return [];
    const held = this.tail.slice(lo, hi);
    if (held) return limitSize(held, maxBytes);
    const out: Entry[] = [];
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
    const compacted = this.compacted();
    if (i < compacted.index) throw new CompactedError(i);
    if (i === compacted.index) return compacted.term;
    const held = this.tail.get(i);
    if (held) return held.term;
    const raw = this.dbs.log.get(logKey(i));
    if (raw === undefined) {
      if (i > this.lastIndex()) throw new UnavailableError(i);
      throw missing(i);
    }
    return decodeEntry(i, raw).term;
  }

  lastIndex(): number {
    this.last ??= this.storedLastIndex();
    return this.last;
  }

  firstIndex(): number {
    return this.compacted().index + 1;
  }

  /** The index and term of the last entry no longer in the log (0/0 for a fresh node). */
  compacted(): { index: number; term: number } {
    this.point ??= this.meta.compacted();
    return this.point;
  }

  /**
   * The write that appends entries, overwriting a conflicting tail (MemoryStorage.append); memory
   * takes them at once, so the caller must queue the write before any later one is produced.
   * Its deletes come from memory (the last index); the entry before the first must exist in the
   * transaction that writes them, so a gap never reaches the disk, whatever memory holds.
   */
  appendWrite(entries: Entry[]): BlindWrite {
    const ops: WriteOp[] = [];
    if (entries.length === 0) return { ops };
    const first = this.compacted().index + 1;
    // Entries already compacted away are skipped.
    if (entries[0]!.index < first) entries = entries.slice(first - entries[0]!.index);
    if (entries.length === 0) return { ops };
    const start = entries[0]!.index;
    const last = this.lastIndex();
    if (start > last + 1) throw gap(last, start);
    const log = this.dbs.log;
    for (const e of entries) ops.push({ db: log, key: logKey(e.index), value: encodeEntry(e) });
    const end = entries[entries.length - 1]!.index;
    // The rest of a conflicting tail goes.
    for (let i = end + 1; i <= last; i++) ops.push({ db: log, key: logKey(i), value: null });
    this.last = end;
    this.tail.append(entries);
    if (start === first) return { ops };
    return {
      ops,
      requires: { db: log, key: logKey(start - 1), missing: () => gap(this.storedLastIndex(), start) },
    };
  }

  /** Drop the entries up to `index` in the current write transaction (none if already gone). */
  compactInTxn(index: number): void {
    if (index <= this.compacted().index) return;
    // Read (and verify) the term before its entry goes: term(index) must keep answering.
    const term = this.term(index);
    this.removeRange({ end: logKey(index), inclusiveEnd: true });
    writeInTxn({ ops: [this.meta.compactedOp(index, term)] });
    this.point = { index, term };
    this.tail.compactTo(index);
  }

  /** Empty the log, a snapshot at index/term taking its place, in the current write transaction. */
  resetInTxn(index: number, term: number): void {
    this.dbs.log.clearSync();
    writeInTxn({ ops: [this.meta.compactedOp(index, term)] });
    this.point = { index, term };
    this.last = index;
    this.tail.clear();
  }

  /** A write transaction rolled back: forget what memory holds, and read LMDB again. */
  invalidate(): void {
    this.point = null;
    this.last = null;
    this.tail.clear();
  }

  /** Delete the log entries of `range` in the current write transaction (keys first: no cursor is live while deleting). */
  private removeRange(range: { start?: Buffer; end?: Buffer; inclusiveEnd?: boolean }): void {
    const keys = [...this.dbs.log.getKeys(range)];
    for (const key of keys) this.dbs.log.removeSync(key);
  }

  private storedLastIndex(): number {
    for (const key of this.dbs.log.getKeys({ reverse: true, limit: 1 })) return logKeyIndex(key);
    return this.compacted().index;
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

/** An append that would leave a hole after `last`. */
function gap(last: number, start: number): Error {
  return new Error(`storage: missing log entry [last: ${last}, append at: ${start}]`);
}

/** An index between the first and last entries has no entry: the log has a hole. */
function missing(index: number): DkvError {
  return new DkvError(
    ErrorCode.DataLoss,
    `raft log entry ${index} is missing (a hole inside the log); stopping rather than serving wrong data`,
  );
}
