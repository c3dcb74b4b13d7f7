import { DkvError, ErrorCode, unavailable } from '../errors.js';
import {
  type ConfChange,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type LogStorage,
} from '../raft/index.js';
import { DecodeError } from './bytes.js';
import { applyConfChangeToState } from './conf-state-update.js';
import { encodeEntry, logKey } from './entry-codec.js';
import { hasPrefix, prefixEnd } from './key-range.js';
import { checkKey, MAX_KEY_BYTES } from './limits.js';
import type { LmdbDbs, ReadTxn } from './lmdb-dbs.js';
import { LmdbLogStorage } from './lmdb-log-storage.js';
import type { MetaStore } from './meta-store.js';
import { decodeRequest } from './request-codec.js';
import { decodeSnapshot, SnapshotEncoder } from './snapshot-codec.js';
import { NO_STORE_OBSERVER, type StoreObserver } from './store-observer.js';
import type {
  Command,
  CommandResult,
  NodeStore,
  PersistBatch,
  ReadyWrite,
  Request,
  StoredValue,
} from './types.js';
import { decodeStoredValue, encodeStoredValue } from './value-codec.js';
import { WriteQueue } from './write-queue.js';

/** What apply() returns for one entry. */
type ApplyResult = { requestId: string | null; result: CommandResult | null };

/** An entry decoded before its transaction, so a malformed payload fails before anything is written. */
type DecodedEntry =
  | { index: number; kind: 'noop' }
  | { index: number; kind: 'request'; request: Request }
  | { index: number; kind: 'conf'; change: ConfChange };

/** A pinned read transaction of a snapshot stream, released exactly once. */
interface SnapshotReader {
  txn: ReadTxn;
  released: boolean;
}

/**
 * NodeStore on one LMDB environment (see open-store.ts): the Raft log, hard
 * state and the KV state machine. Writes are group-committed by a WriteQueue:
 * those of one event-loop turn share one synchronous transaction and one
 * fsync, and a write that throws rolls back alone; persist() resolves only
 * once its transaction is on disk.
 */
export class LmdbNodeStore implements NodeStore {
  readonly log: LogStorage;
  private closed = false;
  /** Every write goes through here, in order. */
  private readonly writes: WriteQueue;
  private readonly readers = new Set<SnapshotReader>();
  /** Told how long durable writes and applies take (metrics); set by the daemon. */
  observer: StoreObserver = NO_STORE_OBSERVER;

  constructor(
    /** The LMDB handles; exposed for tools and tests (e.g. observing flushes), not for writes. */
    readonly dbs: LmdbDbs,
    private readonly meta: MetaStore,
    private readonly report: (msg: string) => void = () => {},
  ) {
    this.log = new LmdbLogStorage(dbs, meta);
    // One closure for the store's life: the queue reports each durable group's duration.
    this.writes = new WriteQueue(dbs.env, (ms) => this.observer.onDurableWrite?.(ms));
  }

  async persist(batch: PersistBatch): Promise<void> {
    await this.writeReady({ ...batch, apply: [], sync: true });
  }

  async apply(entries: Entry[]): Promise<ApplyResult[]> {
    return this.writeReady({ hardState: null, entries: [], snapshot: null, apply: entries, sync: false });
  }

  async writeReady(w: ReadyWrite): Promise<ApplyResult[]> {
    this.assertOpen();
    const persists = w.snapshot !== null || w.hardState !== null || w.entries.length > 0;
    if (!persists && w.apply.length === 0) return [];
    assertContiguous(w.entries);
    assertContiguous(w.apply);
    const snap = w.snapshot;
    const decodedSnapshot = snap ? decodeSnapshotOrThrow(snap.data, snap.meta.index) : null;
    const decodedApply = w.apply.map(decodeForApply);
    let installed = '';
    /** How long the apply took, reported once the transaction is committed (-1: nothing applied). */
    let applyMs = -1;
    const write = (): ApplyResult[] => {
      if (snap && decodedSnapshot) installed = this.installSnapshotInTxn(snap, decodedSnapshot);
      if (w.hardState) this.meta.setHardState(w.hardState);
      this.appendInTxn(w.entries);
      // Applying here is safe: every applied entry is appended by this transaction or an earlier
      // one, transactions commit in the order issued, and a crash keeps a prefix of them, so the
      // applied index never passes the log. (Client acknowledgements rest on the majority's
      // flushed logs, not on this node's apply being durable.)
      if (w.apply.length === 0) return [];
      const applyStart = performance.now();
      const applied = this.applyInTxn(w.apply, decodedApply);
      applyMs = performance.now() - applyStart;
      return applied;
    };
    // Group-committed with the other writes of this event-loop turn (write-queue.ts); durable
    // before it resolves when it persists anything that needs it.
    const durable = w.sync && persists;
    const weight = w.entries.length + w.apply.length;
    const results = await this.writes.enqueue(write, durable, weight, !durable && w.deferrable === true);
    if (installed) this.report(installed);
    if (applyMs >= 0) this.observer.onApply?.(w.apply.length, applyMs);
    return results;
  }

  /** Replace the KV data, log and membership with a snapshot, in the current write transaction. */
  private installSnapshotInTxn(
    snap: NonNullable<PersistBatch['snapshot']>,
    decoded: ReturnType<typeof decodeSnapshotOrThrow>,
  ): string {
    const applied = this.meta.applied();
    if (snap.meta.index <= applied) {
      throw new Error(`storage: snapshot at ${snap.meta.index} is not newer than applied index ${applied}`);
    }
    this.dbs.kv.clearSync();
    this.dbs.log.clearSync();
    const members = new Map<string, string>();
    let keys = 0;
    try {
      for (const rec of decoded.records()) {
        if (rec.kind === 'member') members.set(rec.id, rec.address);
        else {
          this.dbs.kv.putSync(rec.key, encodeStoredValue(rec.value, rec.modRevision));
          keys++;
        }
      }
    } catch (err) {
      if (err instanceof DecodeError) throw badSnapshot(err);
      throw err;
    }
    this.meta.setCompacted(snap.meta.index, snap.meta.term);
    this.meta.setApplied(snap.meta.index);
    this.meta.setConfState(snap.meta.confState);
    this.meta.setMembers(members);
    return (
      `storage: installed snapshot at index ${snap.meta.index} (term ${snap.meta.term}): ` +
      `${keys} keys, ${snap.data.byteLength} bytes, replacing applied index ${applied}`
    );
  }

  /** Append entries in the current write transaction, overwriting a conflicting tail (MemoryStorage.append). */
  private appendInTxn(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.meta.compacted().index + 1;
    // Entries already compacted away are skipped.
    if (entries[0]!.index < first) entries = entries.slice(first - entries[0]!.index);
    if (entries.length === 0) return;
    const start = entries[0]!.index;
    const last = this.log.lastIndex();
    if (start > last + 1) {
      throw new Error(`storage: missing log entry [last: ${last}, append at: ${start}]`);
    }
    if (start <= last) {
      const stale = [...this.dbs.log.getKeys({ start: logKey(start) })];
      for (const key of stale) this.dbs.log.removeSync(key);
    }
    for (const e of entries) this.dbs.log.putSync(logKey(e.index), encodeEntry(e));
  }

  /** Apply decoded committed entries in the current write transaction, with the applied index and membership. */
  private applyInTxn(entries: Entry[], decoded: ReturnType<typeof decodeForApply>[]): ApplyResult[] {
    const applied = this.meta.applied();
    if (entries[0]!.index !== applied + 1) {
      throw new Error(`storage: apply of entry ${entries[0]!.index} after applied index ${applied}`);
    }
    let membership: { confState: ConfState; members: Map<string, string> } | null = null;
    const results: ApplyResult[] = [];
    for (const d of decoded) {
      switch (d.kind) {
        case 'noop':
          results.push({ requestId: null, result: null });
          break;
        case 'request':
          results.push({ requestId: d.request.id, result: this.execute(d.request.command, d.index) });
          break;
        case 'conf': {
          membership ??= { confState: this.meta.confState(), members: this.meta.members() };
          membership = applyConfChangeToState(membership.confState, membership.members, d.change);
          results.push({ requestId: null, result: null });
          break;
        }
      }
    }
    if (membership) {
      this.meta.setConfState(membership.confState);
      this.meta.setMembers(membership.members);
    }
    // Same transaction as the KV changes: a restart neither loses nor re-applies an entry.
    this.meta.setApplied(entries[entries.length - 1]!.index);
    return results;
  }

  /** Run one client write in the current write transaction; its revision is the entry's index. */
  private execute(c: Command, revision: number): CommandResult {
    const kv = this.dbs.kv;
    switch (c.op) {
      case 'put':
        kv.putSync(c.key, encodeStoredValue(c.value, revision));
        return { op: 'put', revision };
      case 'delete': {
        const deleted = kv.doesExist(c.key);
        if (deleted) kv.removeSync(c.key);
        return { op: 'delete', deleted, revision };
      }
      case 'cas': {
        const raw = kv.get(c.key);
        const current = raw === undefined ? null : decodeValueOrThrow(c.key, raw).value;
        const swapped = c.expected === null ? current === null : current?.equals(c.expected) === true;
        if (swapped) kv.putSync(c.key, encodeStoredValue(c.value, revision));
        return { op: 'cas', swapped, current: swapped ? null : current, revision };
      }
    }
  }

  appliedIndex(): number {
    this.assertOpen();
    return this.meta.applied();
  }

  confState(): ConfState {
    this.assertOpen();
    return this.meta.confState();
  }

  memberAddresses(): Map<string, string> {
    this.assertOpen();
    return this.meta.members();
  }

  clusterId(): string | null {
    this.assertOpen();
    return this.meta.clusterId();
  }

  async setClusterId(id: string): Promise<void> {
    this.assertOpen();
    await this.dbs.env.childTransaction(() => this.meta.setClusterId(id));
    await this.dbs.env.flushed;
  }

  get(key: Buffer): StoredValue | null {
    this.assertOpen();
    // LMDB rejects such keys outright; none can have been stored.
    if (key.byteLength === 0 || key.byteLength > MAX_KEY_BYTES) return null;
    const raw = this.dbs.kv.get(key);
    return raw === undefined ? null : decodeValueOrThrow(key, raw);
  }

  range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
  ): { kvs: { key: Buffer; value: StoredValue }[]; more: boolean } {
    this.assertOpen();
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`storage: range limit ${limit} is not a positive integer`);
    const kvs: { key: Buffer; value: StoredValue }[] = [];
    // No stored key is longer than MAX_KEY_BYTES, and LMDB cannot even take such a bound.
    if (prefix.byteLength > MAX_KEY_BYTES) return { kvs, more: false };
    let start: Buffer | undefined = prefix.byteLength > 0 ? prefix : undefined;
    let exclusiveStart = false;
    // An empty startAfter excludes nothing (no key is empty), and LMDB refuses empty bounds.
    if (startAfter !== null && startAfter.byteLength > 0 && Buffer.compare(startAfter, prefix) >= 0) {
      // Every stored key fits in MAX_KEY_BYTES, so "after the first MAX_KEY_BYTES bytes of
      // startAfter" selects exactly the keys after startAfter, and is a bound LMDB accepts.
      start = startAfter.byteLength > MAX_KEY_BYTES ? startAfter.subarray(0, MAX_KEY_BYTES) : startAfter;
      exclusiveStart = true;
    }
    const end = prefixEnd(prefix) ?? undefined;
    if (start !== undefined && end !== undefined && Buffer.compare(start, end) >= 0)
      return { kvs, more: false };
    for (const { key, value } of this.dbs.kv.getRange({ start, end, exclusiveStart, limit: limit + 1 })) {
      if (!hasPrefix(key, prefix)) break;
      if (kvs.length === limit) return { kvs, more: true };
      kvs.push({ key, value: decodeValueOrThrow(key, value) });
    }
    return { kvs, more: false };
  }

  snapshotChunks(index: number, chunkBytes: number): AsyncIterableIterator<Uint8Array> {
    this.assertOpen();
    // One read transaction for the whole stream: a consistent view at `index`
    // however long the peer takes, while writes go on. It is opened now, not on
    // the first next(), so the caller's metadata and the data are read together.
    const reader: SnapshotReader = { txn: this.dbs.env.useReadTransaction(), released: false };
    this.readers.add(reader);
    const applied = this.meta.applied(reader.txn);
    if (applied !== index) {
      this.release(reader);
      throw unavailable(`snapshot index moved: asked for ${index}, the applied index is now ${applied}`);
    }
    const inner = this.streamSnapshot(reader, index, chunkBytes);
    let started = false;
    const release = () => this.release(reader);
    return {
      next: () => {
        started = true;
        return inner.next();
      },
      // A generator closed before its first next() never runs its finally: release here.
      return: async (value?: unknown) => {
        if (!started) release();
        return inner.return(value as undefined);
      },
      throw: (e?: unknown) => inner.throw(e),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async *streamSnapshot(
    reader: SnapshotReader,
    index: number,
    chunkBytes: number,
  ): AsyncGenerator<Uint8Array> {
    try {
      const enc = new SnapshotEncoder(index, chunkBytes);
      for (const [id, address] of this.meta.members(reader.txn)) enc.addMember(id, address);
      let after: Buffer | undefined;
      let more = true;
      while (more) {
        more = false;
        // Cursors are not kept open across a yield: fill chunks, stop, yield, resume after the last key.
        for (const { key, value } of this.dbs.kv.getRange({
          start: after,
          exclusiveStart: after !== undefined,
          transaction: reader.txn,
        })) {
          const stored = decodeValueOrThrow(key, value);
          enc.addKv(key, stored.modRevision, stored.value);
          if (enc.readyBytes >= chunkBytes) {
            after = Buffer.from(key);
            more = true;
            break;
          }
        }
        if (!more) enc.finish();
        for (const chunk of enc.take()) {
          yield chunk;
          if (reader.released) throw unavailable('storage closed while a snapshot was being streamed');
        }
      }
    } finally {
      this.release(reader);
    }
  }

  hurry(): void {
    this.writes.hurry();
  }

  async compact(index: number): Promise<void> {
    this.assertOpen();
    await this.writes.enqueue(() => {
      const applied = this.meta.applied();
      if (index > applied) throw new Error(`storage: compact ${index} is past the applied index ${applied}`);
      const compacted = this.meta.compacted().index;
      if (index <= compacted) return;
      // Read (and verify) the term before its entry goes: term(index) must keep answering.
      const term = this.log.term(index);
      const keys = [...this.dbs.log.getKeys({ end: logKey(index), inclusiveEnd: true })];
      for (const key of keys) this.dbs.log.removeSync(key);
      this.meta.setCompacted(index, term);
    }, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A snapshot stream still pinning a read transaction would otherwise hold the environment open.
    for (const reader of this.readers) this.release(reader);
    this.writes.hurry();
    await this.writes.idle();
    await this.dbs.env.flushed;
    await this.dbs.env.close();
  }

  private release(reader: SnapshotReader): void {
    if (reader.released) return;
    reader.released = true;
    this.readers.delete(reader);
    reader.txn.done();
  }

  private assertOpen(): void {
    if (this.closed) throw unavailable('storage is closed');
  }
}

/** Throw unless entries have consecutive indexes (an assertion on what the core hands us). */
function assertContiguous(entries: Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== entries[i - 1]!.index + 1) {
      throw new Error(
        `storage: entries are not contiguous at ${entries[i - 1]!.index} -> ${entries[i]!.index}`,
      );
    }
  }
}

/** Decode a committed entry's payload; a payload we cannot apply stops the node with a clear error. */
function decodeForApply(e: Entry): DecodedEntry {
  try {
    if (e.type === EntryType.ConfChange)
      return { index: e.index, kind: 'conf', change: decodeConfChange(e.data) };
    if (e.data.byteLength === 0) return { index: e.index, kind: 'noop' };
    const request = decodeRequest(e.data);
    // encodeRequest refuses such keys, so one in the log means a bug; LMDB could not store it, and
    // range() relies on every key fitting MAX_KEY_BYTES. Values of any size are storable: they are
    // not rechecked, so a future change of MAX_VALUE_BYTES cannot make old entries unappliable.
    checkKey(request.command.key);
    return { index: e.index, kind: 'request', request };
  } catch (err) {
    throw new DkvError(
      ErrorCode.Internal,
      `raft log entry ${e.index} cannot be applied: ${(err as Error).message}`,
    );
  }
}

function decodeValueOrThrow(key: Uint8Array, raw: Uint8Array): StoredValue {
  try {
    return decodeStoredValue(raw);
  } catch (err) {
    throw new DkvError(
      ErrorCode.DataLoss,
      `stored value of key ${Buffer.from(key).toString('hex').slice(0, 64)} is corrupt: ${(err as Error).message}`,
    );
  }
}

function decodeSnapshotOrThrow(data: Uint8Array, index: number) {
  try {
    const decoded = decodeSnapshot(data);
    if (decoded.index !== index) {
      throw new DecodeError(`its data is for index ${decoded.index}, its metadata says ${index}`);
    }
    return decoded;
  } catch (err) {
    if (err instanceof DecodeError) throw badSnapshot(err);
    throw err;
  }
}

function badSnapshot(err: DecodeError): DkvError {
  return new DkvError(ErrorCode.DataLoss, `received snapshot is malformed: ${err.message}`);
}
