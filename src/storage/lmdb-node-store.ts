import { DkvError, ErrorCode, unavailable } from '../errors.js';
import {
  type ConfChange,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type LogStorage,
} from '../raft/index.js';
import { ApplyBuffer, ApplyLayer } from './apply-buffer.js';
import { DecodeError } from './bytes.js';
import { applyConfChangeToState } from './conf-state-update.js';
import { HardStateWrites } from './hard-state-writes.js';
import { hasPrefix, prefixEnd } from './key-range.js';
import { checkKey, MAX_KEY_BYTES } from './limits.js';
import type { LmdbDbs, ReadTxn } from './lmdb-dbs.js';
import { LmdbLogStorage } from './lmdb-log-storage.js';
import type { MetaStore } from './meta-store.js';
import { decodeRequest } from './request-codec.js';
import { decodeSnapshot, SnapshotEncoder } from './snapshot-codec.js';
import { NO_STORE_OBSERVER, type StoreObserver } from './store-observer.js';
import type {
  ApplyResult,
  Command,
  CommandResult,
  NodeStore,
  PersistBatch,
  ReadyWrite,
  ReadyWriteOutcome,
  Request,
  StoredValue,
} from './types.js';
import { decodeStoredValue, encodeStoredValue } from './value-codec.js';
import { type BlindWrite, type WriteOp, WriteQueue, writeInTxn } from './write-queue.js';

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

/** What one write body sealed of the apply buffer: unset until it first runs, null if nothing was open. */
interface Drain {
  layer?: ApplyLayer | null;
}

/**
 * Past this many keys, or this many key and value bytes, in the open apply layer, write it
 * without waiting: the buffer bounds its memory, and the cost of the ranges that merge it.
 */
export const APPLY_BUFFER_HURRY_KEYS = 10_000;
export const APPLY_BUFFER_HURRY_BYTES = 8 * 1024 * 1024;

/**
 * Applied changes stay in memory this long before their write is queued (then it rides with
 * the next write group, as any deferrable write). Writing them with every append rewrote the
 * same KV pages many times a second under load; gathered over this interval, a page written by
 * many applies is copied and written once, and most appends carry no KV pages at all. A restart
 * re-applies at most this interval's entries from the log.
 *
 * Why 500: at 64 writers on 10,000 keys a leader's transactions wrote some 33 pages each at 50 ms,
 * most of them KV pages rewritten ten times a second, and the three nodes' flushes queued on one
 * disk. At 500 ms about 10 pages per transaction remain. Writes/s: 11% more than at 50 ms in
 * three interleaved pairs, level in three later (noisier) ones; 250 and 1000 did worse (a single
 * large write lengthens the turn that builds it: p99 up).
 */
export const APPLY_WRITE_DELAY_MS = 500;

/**
 * NodeStore on one LMDB environment (see open-store.ts): the Raft log, hard
 * state and the KV state machine.
 *
 * Writes are group-committed by a WriteQueue: those of one event-loop turn
 * share one transaction and one fsync, and persist() resolves only once its
 * transaction is on disk. Committed entries are applied in memory, into an
 * ApplyBuffer that reads look through, and written with a group some
 * APPLY_WRITE_DELAY_MS later (see apply-buffer.ts for why that is safe);
 * only after a snapshot install, until it is committed, do applies run
 * inside their own transaction.
 */
export class LmdbNodeStore implements NodeStore {
  /** The log; the store writes it, the core reads it through `log`. */
  private readonly logStore: LmdbLogStorage;
  private closed = false;
  /** Every write goes through here, in order. */
  private readonly writes: WriteQueue;
  /** Decides which hard states are written with their Ready. */
  private readonly hardStates: HardStateWrites;
  private readonly readers = new Set<SnapshotReader>();
  /** Applied changes not yet committed to LMDB. */
  private readonly buffer = new ApplyBuffer();
  /** The queued write of the buffer's open layer, if one is queued. */
  private bufferWrite: Promise<void> | null = null;
  /** Queues the buffer's write once APPLY_WRITE_DELAY_MS has passed since an apply found none queued. */
  private bufferTimer: NodeJS.Timeout | null = null;
  /**
   * Writes that apply inside their own transaction (a snapshot install, and applies queued
   * behind one) and are not yet committed: while there are any, applying in memory would build
   * on a state about to be replaced, so applies queue behind them instead.
   */
  private applyingInTxn = 0;
  /** The first write failure: the store refuses writes from then on. */
  private failure: Error | null = null;
  /** Told how long durable writes and applies take (metrics); set by the daemon. */
  observer: StoreObserver = NO_STORE_OBSERVER;
  onFatal: (error: Error) => void = () => {};

  constructor(
    /** The LMDB handles; exposed for tools and tests (e.g. observing flushes), not for writes. */
    readonly dbs: LmdbDbs,
    private readonly meta: MetaStore,
    private readonly report: (msg: string) => void = () => {},
  ) {
    this.logStore = new LmdbLogStorage(dbs, meta);
    this.hardStates = new HardStateWrites(meta.hardState());
    // One closure for the store's life: the queue reports each durable group's duration.
    this.writes = new WriteQueue(dbs.env, {
      onCommit: (thread) => this.observer.onCommit?.(thread),
      onDurableCommit: (ms) => this.observer.onDurableWrite?.(ms),
      onRollback: () => this.logStore.invalidate(),
    });
  }

  /** The core's read-only view of the log. */
  get log(): LogStorage {
    return this.logStore;
  }

  async persist(batch: PersistBatch): Promise<void> {
    await this.writeReady({ ...batch, apply: [] }).written;
  }

  async apply(entries: Entry[]): Promise<ApplyResult[]> {
    const out = this.writeReady({
      hardState: null,
      entries: [],
      snapshot: null,
      apply: entries,
    });
    if (out.applied === null) return out.written;
    await this.flushApplied();
    return out.applied;
  }

  writeReady(w: ReadyWrite): ReadyWriteOutcome {
    this.assertWritable();
    assertContiguous(w.entries);
    assertContiguous(w.apply);
    const snap = w.snapshot;
    const decodedSnapshot = snap ? decodeSnapshotOrThrow(snap.data, snap.meta.index) : null;
    const decodedApply = w.apply.map(decodeForApply);
    // Checked, nothing thrown: the hard state is this Ready's (a commit-index-only one waits).
    const batch: PersistBatch = {
      hardState: this.hardStates.forReady(w.hardState),
      entries: w.entries,
      snapshot: snap,
    };
    // What is persisted is entries, a snapshot, or a new term or vote: each waits for the flush.
    // Applying never does (the log already holds the entries).
    const durable = snap !== null || batch.hardState !== null || w.entries.length > 0;
    const weight = w.entries.length + w.apply.length;
    const onLoop = w.onLoop === true;

    if (snap || this.applyingInTxn > 0) {
      // The slow path: persist and apply in one transaction, after the install it may follow.
      let installed = '';
      let applyMs = -1;
      const drain: Drain = {};
      this.applyingInTxn++;
      const written = this.writes
        .enqueue(
          () => {
            if (snap && decodedSnapshot) {
              // Everything applied so far first, so the install checks against it; sealed layers
              // are already committed (an exclusive group runs after every asynchronous one).
              writeInTxn({ ops: this.drainOps(drain) });
              installed = this.installSnapshotInTxn(snap, decodedSnapshot);
              // The commit follows in this same synchronous call: no read sees LMDB without the buffer.
              this.buffer.reset();
            }
            writeInTxn(this.persistWrite(batch));
            if (w.apply.length === 0) return [];
            const start = performance.now();
            const { layer, results } = this.applyToLayer(w.apply, decodedApply);
            writeInTxn({ ops: this.layerOps(layer) });
            applyMs = performance.now() - start;
            return results;
          },
          { durable, weight, exclusive: snap !== null, onLoop },
        )
        .then(
          (results) => {
            this.applyingInTxn--;
            if (installed) this.report(installed);
            if (applyMs >= 0) this.observer.onApply?.(w.apply.length, applyMs);
            return results;
          },
          (e: unknown) => {
            this.applyingInTxn--;
            throw e;
          },
        );
      return { applied: null, written };
    }

    // The fast path: apply in memory now; persist in this turn's group.
    let applied: ApplyResult[] = [];
    if (w.apply.length > 0) {
      const start = performance.now();
      const { layer, results } = this.applyToLayer(w.apply, decodedApply);
      this.buffer.add(layer);
      this.observer.onApply?.(w.apply.length, performance.now() - start);
      applied = results;
      this.scheduleBufferWrite();
    }
    if (!durable) return { applied, written: Promise.resolve([]) };
    const written = this.writes.enqueueBlind(() => this.persistWrite(batch), { durable, weight, onLoop });
    return { applied, written: written.then(() => []) };
  }

  /** The write of a Ready's entries and hard state (all or nothing: the append's check covers both). */
  private persistWrite(w: PersistBatch): BlindWrite {
    // Encoded first: appendWrite changes the log's memory, so nothing may throw after it.
    const hardState = w.hardState ? this.meta.hardStateOp(w.hardState) : null;
    const write = this.logStore.appendWrite(w.entries);
    if (hardState) write.ops.push(hardState);
    return write;
  }

  /** Queue the write of the buffer's open layer after APPLY_WRITE_DELAY_MS, unless one is queued or timed. */
  private scheduleBufferWrite(): void {
    if (
      this.buffer.openKeys() >= APPLY_BUFFER_HURRY_KEYS ||
      this.buffer.openBytes() >= APPLY_BUFFER_HURRY_BYTES
    ) {
      this.queueBufferWrite();
      this.writes.hurry();
      return;
    }
    if (this.bufferWrite !== null || this.bufferTimer !== null) return;
    this.bufferTimer = setTimeout(() => {
      this.bufferTimer = null;
      this.queueBufferWrite();
    }, APPLY_WRITE_DELAY_MS);
    // A node with nothing else to do may exit: close() writes what is buffered.
    this.bufferTimer.unref();
  }

  /** Queue the write of the buffer's open layer now, unless one is queued: it waits for company. */
  private queueBufferWrite(): void {
    if (this.bufferTimer !== null) {
      clearTimeout(this.bufferTimer);
      this.bufferTimer = null;
    }
    if (this.bufferWrite !== null) return;
    const drain: Drain = {};
    // Taken now, not when the body runs: by then later Readies may name entries not yet written.
    const hardState = this.hardStates.take();
    const write = this.writes.enqueueBlind(
      () => {
        // Once sealed, later applies need a write of their own.
        if (drain.layer === undefined) this.bufferWrite = null;
        const ops = this.drainOps(drain);
        if (hardState) ops.push(this.meta.hardStateOp(hardState));
        return { ops };
      },
      { durable: false, weight: 0, deferrable: true },
    );
    this.bufferWrite = write.then(() => this.releaseDrained(drain));
    this.fatalIfFails(this.bufferWrite);
  }

  /** Write everything applied so far to LMDB; resolves once committed. */
  private async flushApplied(): Promise<void> {
    if (this.bufferTimer !== null) this.queueBufferWrite();
    const pending = this.bufferWrite;
    if (pending === null) return;
    this.writes.hurry();
    await pending;
  }

  /**
   * A write nobody awaits that fails stops the store: applied state it carried would otherwise
   * be visible in memory and missing from LMDB. Remember the first failure and tell the node.
   */
  private fatalIfFails(write: Promise<unknown>): void {
    write.catch((e: unknown) => {
      if (this.failure !== null) return;
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.onFatal(this.failure);
    });
  }

  /**
   * Seal the buffer's open layer on a write body's first run (the queue may run a body again, when
   * it retries a group one write at a time) and return its writes on every run.
   */
  private drainOps(drain: Drain): WriteOp[] {
    if (drain.layer === undefined) drain.layer = this.buffer.seal();
    return drain.layer ? this.layerOps(drain.layer) : [];
  }

  /** The write that drained `drain` is committed: LMDB shows its layer now. */
  private releaseDrained(drain: Drain): void {
    if (drain.layer) this.buffer.release(drain.layer);
  }

  /** The writes of an applied layer: its changes, applied index and membership. */
  private layerOps(layer: ApplyLayer): WriteOp[] {
    const kv = this.dbs.kv;
    const ops: WriteOp[] = [];
    for (const [k, v] of layer.kv) {
      const key = Buffer.from(k, 'latin1');
      ops.push({ db: kv, key, value: v === null ? null : encodeStoredValue(v.value, v.modRevision) });
    }
    if (layer.confState && layer.members) {
      ops.push(this.meta.confStateOp(layer.confState), this.meta.membersOp(layer.members));
    }
    // Same transaction as the KV changes: a restart neither loses nor re-applies an entry.
    ops.push(this.meta.appliedOp(layer.applied));
    return ops;
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
    this.logStore.resetInTxn(snap.meta.index, snap.meta.term);
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
    writeInTxn({
      ops: [
        this.meta.appliedOp(snap.meta.index),
        this.meta.confStateOp(snap.meta.confState),
        this.meta.membersOp(members),
      ],
    });
    return (
      `storage: installed snapshot at index ${snap.meta.index} (term ${snap.meta.term}): ` +
      `${keys} keys, ${snap.data.byteLength} bytes, replacing applied index ${applied}`
    );
  }

  /**
   * Apply decoded committed entries to a new layer over the current state (buffer, then LMDB),
   * without changing either: the caller adds the layer to the buffer or writes it in its
   * transaction. A throw (a corrupt stored value) leaves nothing half-applied.
   */
  private applyToLayer(
    entries: Entry[],
    decoded: DecodedEntry[],
  ): { layer: ApplyLayer; results: ApplyResult[] } {
    const applied = this.appliedIndex();
    if (entries[0]!.index !== applied + 1) {
      throw new Error(`storage: apply of entry ${entries[0]!.index} after applied index ${applied}`);
    }
    const layer = new ApplyLayer();
    let membership: { confState: ConfState; members: Map<string, string> } | null = null;
    const results: ApplyResult[] = [];
    for (const d of decoded) {
      switch (d.kind) {
        case 'noop':
          results.push({ requestId: null, result: null });
          break;
        case 'request':
          results.push({ requestId: d.request.id, result: this.execute(layer, d.request.command, d.index) });
          break;
        case 'conf': {
          membership ??= { confState: this.confState(), members: this.memberAddresses() };
          membership = applyConfChangeToState(membership.confState, membership.members, d.change);
          results.push({ requestId: null, result: null });
          break;
        }
      }
    }
    if (membership) {
      layer.confState = membership.confState;
      layer.members = membership.members;
    }
    layer.applied = entries[entries.length - 1]!.index;
    return { layer, results };
  }

  /** Run one client write into `layer`; its revision is the entry's index. */
  private execute(layer: ApplyLayer, c: Command, revision: number): CommandResult {
    const k = c.key.toString('latin1');
    switch (c.op) {
      case 'put':
        layer.set(k, { value: c.value, modRevision: revision });
        return { op: 'put', revision };
      case 'delete': {
        const deleted = this.current(layer, k, c.key) !== null;
        if (deleted) layer.set(k, null);
        return { op: 'delete', deleted, revision };
      }
      case 'cas': {
        const value = this.current(layer, k, c.key)?.value ?? null;
        const swapped = c.expected === null ? value === null : value?.equals(c.expected) === true;
        if (swapped) layer.set(k, { value: c.value, modRevision: revision });
        return { op: 'cas', swapped, current: swapped ? null : value, revision };
      }
    }
  }

  /** A key's value as of `layer` (its latin1 form `k`): the layer's, else the applied state's. */
  private current(layer: ApplyLayer, k: string, key: Buffer): StoredValue | null {
    const v = layer.kv.get(k);
    return v !== undefined ? v : this.read(key);
  }

  /** A key's applied value: the buffer's, else LMDB's (the current write transaction's, inside one). */
  private read(key: Buffer): StoredValue | null {
    const buffered = this.buffer.get(key);
    if (buffered !== undefined) return buffered;
    const raw = this.dbs.kv.get(key);
    return raw === undefined ? null : decodeValueOrThrow(key, raw);
  }

  appliedIndex(): number {
    this.assertOpen();
    return this.buffer.applied() || this.meta.applied();
  }

  confState(): ConfState {
    this.assertOpen();
    return this.buffer.membership()?.confState ?? this.meta.confState();
  }

  memberAddresses(): Map<string, string> {
    this.assertOpen();
    return new Map(this.buffer.membership()?.members ?? this.meta.members());
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
    return this.read(key);
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
    // Merge LMDB's keys with the applied changes still in the buffer (which win, null: deleted).
    const changes = this.buffer.changesIn(start ?? null, exclusiveStart, end ?? null);
    let c = 0;
    /** Add one live key; false once the page is full and one more key exists. */
    const add = (key: Buffer, value: StoredValue): boolean => {
      if (kvs.length === limit) return false;
      kvs.push({ key, value });
      return true;
    };
    for (const { key, value } of this.dbs.kv.getRange({ start, end, exclusiveStart })) {
      if (!hasPrefix(key, prefix)) break;
      for (; c < changes.length && Buffer.compare(changes[c]!.key, key) < 0; c++) {
        const ch = changes[c]!;
        if (ch.value !== null && hasPrefix(ch.key, prefix) && !add(ch.key, ch.value))
          return { kvs, more: true };
      }
      if (c < changes.length && changes[c]!.key.equals(key)) {
        const ch = changes[c++]!;
        if (ch.value !== null && !add(key, ch.value)) return { kvs, more: true };
        continue;
      }
      if (!add(key, decodeValueOrThrow(key, value))) return { kvs, more: true };
    }
    for (; c < changes.length; c++) {
      const ch = changes[c]!;
      if (ch.value !== null && hasPrefix(ch.key, prefix) && !add(ch.key, ch.value))
        return { kvs, more: true };
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

  async compact(index: number): Promise<void> {
    this.assertWritable();
    const drain: Drain = {};
    await this.writes.enqueue(
      () => {
        // Everything applied so far first: compaction may go up to the in-memory applied index.
        writeInTxn({ ops: this.drainOps(drain) });
        const applied = this.meta.applied();
        if (index > applied)
          throw new Error(`storage: compact ${index} is past the applied index ${applied}`);
        this.logStore.compactInTxn(index);
      },
      // Nobody waits for a compaction: it shares the next group's transaction.
      { durable: false, deferrable: true },
    );
    this.releaseDrained(drain);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // The applied state still in memory is written first (a restart would re-apply it anyway).
    if (this.bufferTimer !== null) this.queueBufferWrite();
    // So is the last commit index, which saves the restarted node re-learning it.
    const hardState = this.hardStates.take();
    if (hardState)
      this.fatalIfFails(
        this.writes.enqueueBlind(() => ({ ops: [this.meta.hardStateOp(hardState)] }), { durable: false }),
      );
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

  /** Refuse writes once closed, or once a write nobody awaited has failed. */
  private assertWritable(): void {
    this.assertOpen();
    if (this.failure) throw new Error(`storage: an earlier write failed: ${this.failure.message}`);
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
