/**
 * Snapshots: a consistent read of the KV data at the applied index, streamed
 * in bounded chunks, installed into another store by persist().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DkvError, ErrorCode } from '../../src/errors.js';
import { ConfChangeType, type Entry } from '../../src/raft/index.js';
import { type LmdbNodeStore, openNodeStore } from '../../src/storage/index.js';
import { append, appendAndApply, confEntry, putEntry, tmpStore } from './helpers.js';

async function collect(chunks: AsyncIterable<Uint8Array>, maxChunkBytes: number): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) {
    assert.ok(c.byteLength > 0 && c.byteLength <= maxChunkBytes, `chunk of ${c.byteLength} bytes`);
    out.push(c);
  }
  return Buffer.concat(out);
}

/** A store with members and `n` keys of varied sizes (binary keys, empty and multi-chunk values). */
async function filledStore(n: number): Promise<LmdbNodeStore> {
  const { store } = tmpStore();
  await appendAndApply(store, [
    confEntry(1, 1, ConfChangeType.AddNode, 'a', '10.0.0.1:7070'),
    confEntry(2, 1, ConfChangeType.AddNode, 'b', '10.0.0.2:7070'),
    confEntry(3, 1, ConfChangeType.AddLearner, 'c', '10.0.0.3:7070'),
  ]);
  const batch: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const index = 4 + i;
    const key = Buffer.from(`key-${i.toString().padStart(5, '0')}`);
    if (i % 100 === 7) key[0] = 0xff;
    if (i % 100 === 8) key[0] = 0x00;
    const value =
      i === 1
        ? Buffer.alloc(10_000, 7)
        : i % 50 === 0
          ? Buffer.alloc(0)
          : Buffer.from(`value ${i} `.repeat(i % 5));
    batch.push(putEntry(index, 2, key, value));
  }
  await appendAndApply(store, batch);
  return store;
}

describe('snapshots', () => {
  test('round trip: 5000 keys in chunks of at most 4096 bytes into a fresh store', async () => {
    const source = await filledStore(5000);
    const meta = source.log.snapshot().meta;
    assert.deepEqual(meta, {
      index: 5003,
      term: 2,
      confState: { voters: ['a', 'b'], learners: ['c'] },
    });
    const data = await collect(source.snapshotChunks(meta.index, 4096), 4096);

    const { store: target } = tmpStore();
    // The target had some older state of its own, which the snapshot replaces.
    await appendAndApply(target, [putEntry(1, 1, 'stale-key', 'gone'), putEntry(2, 1, 'key-00002', 'old')]);
    await append(target, [putEntry(3, 1, 'x', 'unapplied tail')]);
    await target.persist({
      hardState: { term: 3, vote: 'a', commit: 5003 },
      entries: [],
      snapshot: { meta, data },
    });

    const all = (s: LmdbNodeStore) => s.range(Buffer.alloc(0), null, 100_000);
    const want = all(source);
    assert.equal(want.kvs.length, 5000);
    assert.deepEqual(all(target), want);
    assert.equal(target.get(Buffer.from('stale-key')), null);
    assert.equal(target.appliedIndex(), 5003);
    assert.deepEqual(target.confState(), meta.confState);
    assert.deepEqual(target.memberAddresses(), source.memberAddresses());
    assert.equal(target.memberAddresses().get('c'), '10.0.0.3:7070');
    // The log now starts after the snapshot, and the snapshot point's term still answers.
    assert.equal(target.log.firstIndex(), 5004);
    assert.equal(target.log.lastIndex(), 5003);
    assert.equal(target.log.term(5003), 2);
    assert.deepEqual(target.log.initialState(), {
      hardState: { term: 3, vote: 'a', commit: 5003 },
      confState: meta.confState,
    });
    assert.deepEqual(target.log.snapshot().meta, meta);
    // The log grows after it, and applying continues from the snapshot's index.
    const next = putEntry(5004, 3, 'after', 'snapshot');
    await appendAndApply(target, [next]);
    assert.equal(target.appliedIndex(), 5004);
    await source.close();
    await target.close();
  });

  test('a snapshot and the entries after it persist in one batch', async () => {
    const source = await filledStore(20);
    const meta = source.log.snapshot().meta;
    const data = await collect(source.snapshotChunks(meta.index, 4096), 4096);
    const logs: string[] = [];
    const { store: target, dir } = tmpStore();
    await target.close();
    const reopened = openNodeStore(dir, { log: (m) => logs.push(m) });
    await append(reopened, [putEntry(1, 1, 'old', 'tail'), putEntry(2, 1, 'old', 'tail')]);
    const after = [putEntry(meta.index + 1, 3, 'n1', 'x'), putEntry(meta.index + 2, 3, 'n2', 'y')];
    await reopened.persist({
      hardState: { term: 3, vote: '', commit: meta.index },
      entries: after,
      snapshot: { meta, data },
    });
    assert.equal(reopened.log.firstIndex(), meta.index + 1);
    assert.equal(reopened.log.lastIndex(), meta.index + 2);
    assert.deepEqual(reopened.log.entries(meta.index + 1, meta.index + 3, Infinity), after);
    assert.equal(reopened.log.term(meta.index), meta.term);
    assert.throws(() => reopened.log.term(2), /index 2 is compacted/);
    await reopened.apply(after);
    assert.equal(reopened.appliedIndex(), meta.index + 2);
    assert.equal(reopened.range(Buffer.alloc(0), null, 1000).kvs.length, 22);
    assert.match(logs.at(-1) ?? '', /installed snapshot at index 23 \(term 2\): 20 keys/);
    await source.close();
    await reopened.close();
  });

  test('the stream is the state at its index even while writes go on', async () => {
    const source = await filledStore(300);
    const index = source.appliedIndex();
    const chunks = source.snapshotChunks(index, 512)[Symbol.asyncIterator]();
    const first = await chunks.next(); // the read transaction is open from here on
    assert.equal(first.done, false);
    await appendAndApply(source, [
      putEntry(index + 1, 2, 'key-00010', 'changed'),
      putEntry(index + 2, 2, 'new', 'key'),
    ]);
    const rest: Uint8Array[] = [first.value as Uint8Array];
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) rest.push(r.value);
    const { store: target } = tmpStore();
    const meta = { index, term: 2, confState: source.confState() };
    await target.persist({ hardState: null, entries: [], snapshot: { meta, data: Buffer.concat(rest) } });
    assert.equal(target.get(Buffer.from('new')), null);
    assert.notDeepEqual(target.get(Buffer.from('key-00010'))?.value, Buffer.from('changed'));
    assert.equal(target.range(Buffer.alloc(0), null, 10_000).kvs.length, 300);
    await source.close();
    await target.close();
  });

  test('a stale index throws UNAVAILABLE "snapshot index moved" at once, when the stream is opened', async () => {
    const source = await filledStore(10);
    const index = source.appliedIndex();
    await appendAndApply(source, [putEntry(index + 1, 2, 'k', 'v')]);
    // The check runs in the call itself, so a caller that read the metadata in the same turn gets
    // data consistent with it, and a stale caller learns before handing the stream to a peer.
    assert.throws(
      () => source.snapshotChunks(index, 4096),
      (err: unknown) =>
        err instanceof DkvError &&
        err.code === ErrorCode.Unavailable &&
        /snapshot index moved/.test(err.message),
    );
    await source.close();
  });

  test('the read transaction is released when the stream ends, fails, or the consumer stops early', async () => {
    const source = await filledStore(500);
    const env = source.dbs.env;
    // lmdb-js counts users of a read transaction in its refCount (cursors use and
    // release it too); the stream must bring it back to where it was before its use.
    type Counted = ReturnType<typeof env.useReadTransaction> & { refCount: number };
    const realUse = env.useReadTransaction.bind(env);
    // The same shared transaction object may be handed out again while nothing is written.
    const baseline = new Map<Counted, number>();
    const pinned: Counted[] = [];
    env.useReadTransaction = () => {
      const txn = realUse() as Counted;
      if (!baseline.has(txn)) baseline.set(txn, txn.refCount - 1);
      pinned.push(txn);
      return txn;
    };
    /** How many uses of read transactions are still outstanding. */
    const held = () => {
      let n = 0;
      for (const [txn, before] of baseline) n += txn.refCount - before;
      return n;
    };
    const index = source.appliedIndex();
    await collect(source.snapshotChunks(index, 1024), 1024);
    assert.deepEqual({ opened: pinned.length, held: held() }, { opened: 1, held: 0 }, 'after a full stream');
    for await (const _ of source.snapshotChunks(index, 1024)) break;
    assert.deepEqual(
      { opened: pinned.length, held: held() },
      { opened: 2, held: 0 },
      'after the consumer stopped early',
    );
    assert.throws(() => source.snapshotChunks(index - 1, 1024), /snapshot index moved/);
    assert.deepEqual({ opened: pinned.length, held: held() }, { opened: 3, held: 0 }, 'after a stale index');
    // A stream abandoned before its first chunk releases its transaction too.
    await source.snapshotChunks(index, 1024).return?.();
    assert.deepEqual(
      { opened: pinned.length, held: held() },
      { opened: 4, held: 0 },
      'after closing an unread stream',
    );
    // A suspended stream does hold it...
    const it = source.snapshotChunks(index, 1024)[Symbol.asyncIterator]();
    await it.next();
    assert.deepEqual({ opened: pinned.length, held: held() }, { opened: 5, held: 1 }, 'while suspended');
    // ...until the store closes, after which the stream fails cleanly.
    const txn = pinned[4]!;
    const refCountBeforeClose = txn.refCount;
    await source.close();
    assert.equal(txn.refCount, refCountBeforeClose - 1, 'close released the suspended stream');
    await assert.rejects(it.next(), /storage closed while a snapshot was being streamed/);
    assert.equal(txn.refCount, refCountBeforeClose - 1, 'released exactly once');
  });

  test('a damaged or mismatched snapshot is refused and the store is unchanged', async () => {
    const source = await filledStore(50);
    const meta = source.log.snapshot().meta;
    const data = await collect(source.snapshotChunks(meta.index, 4096), 4096);
    const { store: target } = tmpStore();
    await appendAndApply(target, [putEntry(1, 1, 'mine', 'kept')]);
    const flipped = Buffer.from(data);
    flipped[100]! ^= 1;
    const isDataLoss = (re: RegExp) => (err: unknown) =>
      err instanceof DkvError && err.code === ErrorCode.DataLoss && re.test(err.message);
    await assert.rejects(
      target.persist({ hardState: null, entries: [], snapshot: { meta, data: flipped } }),
      isDataLoss(/checksum mismatch/),
    );
    await assert.rejects(
      target.persist({
        hardState: null,
        entries: [],
        snapshot: { meta, data: data.subarray(0, data.length - 10) },
      }),
      isDataLoss(/checksum mismatch/),
    );
    await assert.rejects(
      target.persist({
        hardState: null,
        entries: [],
        snapshot: { meta: { ...meta, index: meta.index + 1 }, data },
      }),
      isDataLoss(/its data is for index 53, its metadata says 54/),
    );
    assert.deepEqual(target.get(Buffer.from('mine'))?.value, Buffer.from('kept'));
    assert.equal(target.appliedIndex(), 1);
    // A snapshot not newer than what is applied would roll the state back: refused.
    await appendAndApply(
      target,
      Array.from({ length: 60 }, (_, i) => putEntry(2 + i, 1, `m${i}`, 'x')),
    );
    await assert.rejects(
      target.persist({ hardState: null, entries: [], snapshot: { meta, data } }),
      /snapshot at 53 is not newer than applied index 61/,
    );
    await source.close();
    await target.close();
  });
});
