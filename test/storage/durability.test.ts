/**
 * persist() must not resolve before its transaction is on disk. The store
 * commits through lmdb-js's transactionSync: with SYNCHRONOUS_COMMIT and
 * without NO_SYNC_FLUSH, LMDB fdatasyncs the data file and writes the meta
 * page through its O_DSYNC handle before the call returns; with
 * NO_SYNC_FLUSH the call may return first (lmdb-js flushes later), and with
 * NO_META_SYNC the meta page is written without waiting for it. These
 * tests record every transaction the store runs, with its flags and when it
 * returned, and check that each persist() resolved only after a durable
 * transaction holding its writes returned, and that applying does not pay
 * for a flush it does not need.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionFlags } from 'lmdb';
import { logKey } from '../../src/storage/entry-codec.js';
import { type LmdbNodeStore, openNodeStore } from '../../src/storage/index.js';
import { NO_META_SYNC, SYNC_MAX_WEIGHT } from '../../src/storage/write-queue.js';
import { noopEntry, putEntry, tmpStore } from './helpers.js';

const FLUSH_DELAY_MS = 40;

/**
 * Make the store's `env.flushed` resolve FLUSH_DELAY_MS after lmdb-js's real flush, logging each
 * wait on it and its completion: an asynchronous commit resolves at commit (visible), before its
 * fsync, which only `flushed` observes.
 */
function slowFlushes(store: LmdbNodeStore, events: string[]): () => void {
  const env = store.dbs.env;
  const real = env.flushed;
  Object.defineProperty(env, 'flushed', {
    configurable: true,
    get() {
      return {
        // biome-ignore lint/suspicious/noThenProperty: mimics lmdb-js's thenable `flushed`
        then<T>(onFulfilled: (v: boolean) => T, onRejected?: (e: unknown) => T) {
          events.push('flush-wait');
          return real
            .then(async (v) => {
              await sleep(FLUSH_DELAY_MS);
              events.push('flushed');
              return v;
            })
            .then(onFulfilled, onRejected);
        },
      };
    },
  });
  return () => {
    Object.defineProperty(env, 'flushed', { configurable: true, value: real, writable: true });
  };
}

/** `n` put entries from index `first`, term 1. */
function puts(first: number, n: number) {
  return Array.from({ length: n }, (_, i) => putEntry(first + i, 1, `k${first + i}`, 'v'));
}

/** One transaction the store ran, as recorded by recordTransactions(). */
interface TxnRecord {
  durable: boolean;
  /** The log's last index when the transaction returned (what it made durable, if durable). */
  lastIndexAfter: number;
}

/**
 * Record the store's transactions into `events` (as `txn:durable` / `txn:lazy`; `txn:async` when
 * one is queued for lmdb-js's writer thread as a callback, `txn:batch` as plain asynchronous
 * writes) and its synchronous ones into `txns`.
 */
function recordTransactions(store: LmdbNodeStore, events: string[], txns: TxnRecord[]): () => void {
  const env = store.dbs.env;
  const real = env.transactionSync;
  env.transactionSync = function (this: unknown, action: () => unknown, flags?: number) {
    const result = real.call(env, action as () => never, flags as TransactionFlags);
    // lmdb-js's default flags (undefined) are ABORTABLE | SYNCHRONOUS_COMMIT: durable.
    // NO_SYNC_FLUSH (flush later) and NO_META_SYNC (meta page not flushed) each make it lazy.
    const durable =
      flags === undefined ||
      ((flags & TransactionFlags.SYNCHRONOUS_COMMIT) !== 0 &&
        (flags & TransactionFlags.NO_SYNC_FLUSH) === 0 &&
        (flags & NO_META_SYNC) === 0);
    txns.push({ durable, lastIndexAfter: store.log.lastIndex() });
    events.push(durable ? 'txn:durable' : 'txn:lazy');
    return result;
  } as typeof env.transactionSync;
  const realChild = env.childTransaction;
  env.childTransaction = function (this: unknown, action: () => unknown) {
    events.push('txn:async');
    return realChild.call(env, action as () => never);
  } as typeof env.childTransaction;
  // Blind writes go to the writer thread as plain asynchronous writes, batched.
  const realBatch = env.batch;
  env.batch = function (this: unknown, action: () => void) {
    events.push('txn:batch');
    return realBatch.call(env, action);
  } as typeof env.batch;
  return () => {
    env.transactionSync = real;
    env.childTransaction = realChild;
    env.batch = realBatch;
  };
}

describe('persist() resolves only once on disk', () => {
  test('its transaction is durable and returned before it resolves', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restore = recordTransactions(store, events, txns);
    await store.persist({
      hardState: { term: 1, vote: 'a', commit: 0 },
      entries: [noopEntry(1, 1)],
      snapshot: null,
    });
    events.push('persist resolved');
    assert.deepEqual(events, ['txn:durable', 'persist resolved']);
    assert.equal(txns[0]!.lastIndexAfter, 1);
    restore();
    await store.close();
  });

  test('concurrent persists share one durable transaction, which returns before any resolves', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restore = recordTransactions(store, events, txns);
    // Issued in the same event turn: the store group-commits them.
    const batches = [
      { hardState: null, entries: [putEntry(1, 1, 'a', 'x')], snapshot: null },
      { hardState: { term: 1, vote: 'a', commit: 1 }, entries: [], snapshot: null },
      { hardState: null, entries: [putEntry(2, 1, 'b', 'y'), putEntry(3, 1, 'c', 'z')], snapshot: null },
    ];
    await Promise.all(
      batches.map((b, i) => store.persist(b).then(() => events.push(`persist ${i} resolved`))),
    );
    assert.deepEqual(events, [
      'txn:durable',
      'persist 0 resolved',
      'persist 1 resolved',
      'persist 2 resolved',
    ]);
    assert.equal(txns[0]!.lastIndexAfter, 3);
    restore();
    await store.close();
  });

  test('an apply grouped with a persist does not make the group lazy', async () => {
    const { store } = tmpStore();
    await store.persist({ hardState: null, entries: [putEntry(1, 1, 'k', 'v')], snapshot: null });
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restore = recordTransactions(store, events, txns);
    await Promise.all([
      store.apply([putEntry(1, 1, 'k', 'v')]).then(() => events.push('apply resolved')),
      store.persist({ hardState: null, entries: [putEntry(2, 1, 'k', 'w')], snapshot: null }).then(() => {
        events.push('persist resolved');
      }),
    ]);
    assert.equal(events[0], 'txn:durable');
    assert.deepEqual(events.slice(1).sort(), ['apply resolved', 'persist resolved']);
    restore();
    await store.close();
  });

  test('apply() alone commits without waiting for a flush (the log already holds its entries)', async () => {
    const { store } = tmpStore();
    await store.persist({ hardState: null, entries: [putEntry(1, 1, 'k', 'v')], snapshot: null });
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restore = recordTransactions(store, events, txns);
    await store.apply([putEntry(1, 1, 'k', 'v')]);
    assert.deepEqual(events, ['txn:lazy']);
    assert.equal(store.appliedIndex(), 1);
    restore();
    await store.close();
  });

  test('a write that throws rolls back alone; the writes grouped with it land', async () => {
    const { store, dir } = tmpStore();
    await store.persist({ hardState: null, entries: [putEntry(1, 1, 'a', '1')], snapshot: null });
    const results = await Promise.allSettled([
      store.persist({ hardState: null, entries: [putEntry(2, 1, 'b', '2')], snapshot: null }),
      // Entry 5 does not follow the log's last index: the store refuses it.
      store.persist({ hardState: null, entries: [putEntry(5, 1, 'x', 'x')], snapshot: null }),
      store.persist({ hardState: null, entries: [putEntry(3, 1, 'c', '3')], snapshot: null }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /missing log entry/);
    assert.equal(store.log.lastIndex(), 3);
    // What the log answers from memory is what the rollback and the retries left in LMDB.
    assert.deepEqual(
      store.log.entries(1, 4, Infinity).map((e) => e.index),
      [1, 2, 3],
    );
    assert.throws(() => store.log.term(5), /not available/);
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.log.lastIndex(), 3);
    await reopened.close();
  });

  test('in an off-thread group, an append that would leave a gap fails alone', async () => {
    const { store, dir } = tmpStore();
    await store.persist({ hardState: null, entries: [putEntry(1, 1, 'a', '1')], snapshot: null });
    // Heavy enough to commit off the main thread; entry 20 does not follow the log's last index.
    const results = await Promise.allSettled([
      store.persist({ hardState: null, entries: puts(2, SYNC_MAX_WEIGHT + 1), snapshot: null }),
      store.persist({ hardState: null, entries: [putEntry(20, 1, 'x', 'x')], snapshot: null }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /missing log entry/);
    const last = SYNC_MAX_WEIGHT + 2;
    assert.equal(store.log.lastIndex(), last);
    assert.throws(() => store.log.term(20), /not available/);
    await store.persist({ hardState: null, entries: [putEntry(last + 1, 1, 'b', '2')], snapshot: null });
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.log.lastIndex(), last + 1);
    await reopened.close();
  });

  for (const [path, n] of [
    ['off the main thread', SYNC_MAX_WEIGHT + 1],
    ['on the event loop', 1],
  ] as const) {
    test(`an append whose predecessor is missing on disk writes nothing, whatever memory holds (${path})`, async () => {
      const { store, dir } = tmpStore();
      await store.persist({ hardState: null, entries: puts(1, 2), snapshot: null });
      // Behind the store's back, as a corrupted cache would be: memory still says the log ends at 2.
      store.dbs.log.removeSync(logKey(2));
      const results = await Promise.allSettled([
        store.persist({ hardState: { term: 2, vote: 'b', commit: 0 }, entries: puts(3, n), snapshot: null }),
      ]);
      assert.equal(results[0]!.status, 'rejected');
      assert.match(
        String((results[0] as PromiseRejectedResult).reason),
        /missing log entry \[last: 1, append at: 3\]/,
      );
      // Nothing of it reached the disk, its hard state included; memory rereads LMDB.
      assert.equal(store.dbs.log.get(logKey(3)), undefined);
      assert.equal(store.log.lastIndex(), 1);
      await store.close();
      const reopened = openNodeStore(dir);
      assert.equal(reopened.log.lastIndex(), 1);
      assert.equal(reopened.log.initialState().hardState.term, 0);
      await reopened.close();
    });
  }

  test('a heavy group commits off the main thread and resolves only after the flush that covers it', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restoreTxns = recordTransactions(store, events, txns);
    const restoreFlushes = slowFlushes(store, events);
    await store.persist({ hardState: null, entries: puts(1, SYNC_MAX_WEIGHT + 1), snapshot: null });
    events.push('persist resolved');
    // No synchronous transaction. The flush awaited was asked for once the transaction was queued
    // (so it is the flush of the batch holding it, not of an earlier one), and it ended first.
    // Its log entries went as plain writes, with no transaction callback for the writer to wait on.
    assert.deepEqual(events, ['txn:batch', 'flush-wait', 'flushed', 'persist resolved']);
    restoreFlushes();
    restoreTxns();
    await store.close();
  });

  test('a light group queued behind a heavy one follows it off the main thread, in order', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const txns: TxnRecord[] = [];
    const restoreTxns = recordTransactions(store, events, txns);
    const restoreFlushes = slowFlushes(store, events);
    const heavy = store.persist({ hardState: null, entries: puts(1, SYNC_MAX_WEIGHT + 1), snapshot: null });
    await new Promise((r) => setImmediate(r)); // the heavy group is now committing
    const light = store.persist({ hardState: null, entries: puts(SYNC_MAX_WEIGHT + 2, 1), snapshot: null });
    await Promise.all([
      heavy.then(() => events.push('heavy resolved')),
      light.then(() => events.push('light resolved')),
    ]);
    assert.equal(store.log.lastIndex(), SYNC_MAX_WEIGHT + 2);
    assert.ok(!events.includes('txn:durable') && !events.includes('txn:lazy'), events.join(', '));
    assert.equal(events.filter((e) => e === 'txn:batch').length, 2);
    // Each resolved only after a completed flush.
    for (const name of ['heavy resolved', 'light resolved']) {
      const at = events.indexOf(name);
      assert.ok(events.slice(0, at).includes('flushed'), events.join(', '));
    }
    restoreFlushes();
    restoreTxns();
    await store.close();
  });
});
