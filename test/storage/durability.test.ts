/**
 * persist() must not resolve before its transaction is flushed (fsynced).
 * Under lmdb-js's default overlappingSync a write's promise resolves at
 * commit (visible to readers), before the flush; the flush is only observable
 * through the environment's `flushed` promise. These tests delay that promise
 * and record when it resolves: a persist() that waited only for the commit
 * resolves first and fails them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LmdbNodeStore } from '../../src/storage/index.js';
import { noopEntry, putEntry, tmpStore } from './helpers.js';

const FLUSH_DELAY_MS = 40;

/**
 * Make the store's `env.flushed` resolve FLUSH_DELAY_MS after lmdb's real
 * flush, and log, for each wait on it, what was committed when the wait began
 * and when the (delayed) flush completed.
 */
function slowFlushes(store: LmdbNodeStore, events: string[]) {
  const env = store.dbs.env;
  const real = env.flushed;
  Object.defineProperty(env, 'flushed', {
    configurable: true,
    get() {
      return {
        // biome-ignore lint/suspicious/noThenProperty: mimics lmdb-js's thenable `flushed`
        then<T>(onFulfilled: (v: boolean) => T, onRejected?: (e: unknown) => T) {
          // Like lmdb-js, capture the writes so far at the moment of the wait.
          events.push(`flush-wait(last=${store.log.lastIndex()})`);
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

describe('persist() resolves only once flushed', () => {
  test('the flush it waits for starts after its commit, and completes before it resolves', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const restore = slowFlushes(store, events);
    const started = performance.now();
    await store.persist({
      hardState: { term: 1, vote: 'a', commit: 0 },
      entries: [noopEntry(1, 1)],
      snapshot: null,
    });
    events.push('persist resolved');
    const elapsed = performance.now() - started;
    // The wait on `flushed` began once entry 1 was committed (visible), so it covers it...
    assert.equal(events[0], 'flush-wait(last=1)');
    // ...and persist resolved only after that flush completed.
    assert.deepEqual(events.slice(-2), ['flushed', 'persist resolved']);
    assert.ok(elapsed >= FLUSH_DELAY_MS - 1, `persist took ${elapsed} ms, less than the flush`);
    restore();
    await store.close();
  });

  test('concurrent persists: none resolves before the flush of its own transaction', async () => {
    const { store } = tmpStore();
    const events: string[] = [];
    const restore = slowFlushes(store, events);
    // Issued in the same event turn: lmdb-js may batch them into one LMDB transaction.
    const batches = [
      { hardState: null, entries: [putEntry(1, 1, 'a', 'x')], snapshot: null },
      { hardState: { term: 1, vote: 'a', commit: 1 }, entries: [], snapshot: null },
      { hardState: null, entries: [putEntry(2, 1, 'b', 'y'), putEntry(3, 1, 'c', 'z')], snapshot: null },
    ];
    await Promise.all(
      batches.map((b, i) => store.persist(b).then(() => events.push(`persist ${i} resolved`))),
    );
    assert.equal(store.log.lastIndex(), 3);
    // Every resolution follows a completed flush.
    for (const [i, e] of events.entries()) {
      if (!e.startsWith('persist')) continue;
      const flushedBefore = events.slice(0, i).lastIndexOf('flushed');
      assert.ok(flushedBefore >= 0, `${e} before any flush completed: ${events.join(', ')}`);
    }
    assert.ok(events.includes('flush-wait(last=3)'), events.join(', '));
    assert.equal(events.filter((e) => e.startsWith('persist')).length, 3);
    restore();
    await store.close();
  });

  test('apply() resolves at commit without waiting for a flush (the log already holds its entries)', async () => {
    const { store } = tmpStore();
    await store.persist({ hardState: null, entries: [putEntry(1, 1, 'k', 'v')], snapshot: null });
    const events: string[] = [];
    const restore = slowFlushes(store, events);
    await store.apply([putEntry(1, 1, 'k', 'v')]);
    assert.deepEqual(events, [], 'apply did not wait on flushed');
    assert.equal(store.appliedIndex(), 1);
    restore();
    await store.close();
  });
});
