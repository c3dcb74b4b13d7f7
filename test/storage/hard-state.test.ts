/**
 * A hard state that moves only the commit index is not written with its Ready (HardStateWrites):
 * term and vote are, at once and durably; the commit index rides with the next applied-state write
 * or the close, and a restart reads back a commit index of at least the applied index.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { type Entry, Prng, RawNode } from '../../src/raft/index.js';
import { openNodeStore } from '../../src/storage/index.js';
import type { LmdbNodeStore } from '../../src/storage/lmdb-node-store.js';
import { MetaStore } from '../../src/storage/meta-store.js';
import { noopEntry, putEntry, tmpDir } from './helpers.js';

/** The hard state as it is in LMDB now (not as the store would report it on restart). */
function storedHardState(store: LmdbNodeStore) {
  return new MetaStore(store.dbs.meta).hardState();
}

/** Count the store's write transactions, synchronous or on lmdb-js's writer thread. */
function countTransactions(store: LmdbNodeStore): { count: () => number; restore: () => void } {
  const env = store.dbs.env;
  const sync = env.transactionSync;
  const child = env.childTransaction;
  let n = 0;
  env.transactionSync = ((action: () => never, flags?: number) => {
    n++;
    return sync.call(env, action, flags as never);
  }) as typeof env.transactionSync;
  env.childTransaction = ((action: () => never) => {
    n++;
    return child.call(env, action);
  }) as typeof env.childTransaction;
  const batch = env.batch;
  env.batch = ((action: () => void) => {
    n++;
    return batch.call(env, action);
  }) as typeof env.batch;
  return {
    count: () => n,
    restore: () => {
      env.transactionSync = sync;
      env.childTransaction = child;
      env.batch = batch;
    },
  };
}

/** Persist `entries` in term 1 with a vote for a, commit 0 (a new term: written at once). */
function persistInTerm1(store: LmdbNodeStore, entries: Entry[]): Promise<void> {
  return store.persist({ hardState: { term: 1, vote: 'a', commit: 0 }, entries, snapshot: null });
}

/** A Ready in term 1 whose hard state moves only the commit index, applying `apply`. */
function commitOnlyReady(store: LmdbNodeStore, commit: number, apply: Entry[] = []) {
  return store.writeReady({ hardState: { term: 1, vote: 'a', commit }, entries: [], snapshot: null, apply });
}

describe('hard state writes', () => {
  test('a new term or vote is written with its entries; a commit-only change waits for the applied state', async () => {
    const store = openNodeStore(tmpDir());
    await store.persist({
      hardState: { term: 2, vote: 'a', commit: 0 },
      entries: [noopEntry(1, 2)],
      snapshot: null,
    });
    assert.deepEqual(storedHardState(store), { term: 2, vote: 'a', commit: 0 });

    // Entries with a commit-only hard state: the entries are durable, the commit index is not yet written.
    await store.persist({
      hardState: { term: 2, vote: 'a', commit: 1 },
      entries: [putEntry(2, 2, 'k', 'v')],
      snapshot: null,
    });
    assert.equal(store.log.lastIndex(), 2);
    assert.deepEqual(storedHardState(store), { term: 2, vote: 'a', commit: 0 });

    // The applied-state write carries it.
    await store.apply([noopEntry(1, 2)]);
    assert.deepEqual(storedHardState(store), { term: 2, vote: 'a', commit: 1 });

    // A vote in a new term is written at once, with the commit index it carries.
    await store.persist({ hardState: { term: 3, vote: 'b', commit: 2 }, entries: [], snapshot: null });
    assert.deepEqual(storedHardState(store), { term: 3, vote: 'b', commit: 2 });
    await store.close();
  });

  test('a commit-only Ready with nothing to apply costs no transaction; close writes its commit index', async () => {
    const dir = tmpDir();
    const store = openNodeStore(dir);
    await persistInTerm1(store, [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2')]);
    const txns = countTransactions(store);
    await commitOnlyReady(store, 2).written;
    await new Promise((r) => setTimeout(r, 50)); // past any deferral
    assert.equal(txns.count(), 0, 'no transaction for a commit-only hard state');
    txns.restore();
    await store.close();

    const reopened = openNodeStore(dir);
    assert.deepEqual(reopened.log.initialState().hardState, { term: 1, vote: 'a', commit: 2 });
    await reopened.close();
  });

  test('a crash before the commit index is written: restart commits at least what was applied, and the core accepts it', async () => {
    const dir = tmpDir();
    const store = openNodeStore(dir);
    await persistInTerm1(store, [
      putEntry(1, 1, 'a', '1'),
      putEntry(2, 1, 'b', '2'),
      putEntry(3, 1, 'c', '3'),
    ]);
    // Commit 3 and apply 1-3 in memory; queue the applied-state write (it takes commit 3 with it);
    // before its body runs, commit 5 and apply 4-5. The body writes applied 5 beside commit 3.
    await persistInTerm1(store, [putEntry(4, 1, 'd', '4'), putEntry(5, 1, 'e', '5')]);
    commitOnlyReady(store, 3, [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2'), putEntry(3, 1, 'c', '3')]);
    const written = store.apply([]);
    commitOnlyReady(store, 5, [putEntry(4, 1, 'd', '4'), putEntry(5, 1, 'e', '5')]);
    await written;
    await store.dbs.env.flushed;

    // The files as a crash would leave them now: copied, not closed.
    const image = tmpDir();
    fs.cpSync(dir, image, { recursive: true });
    await store.close();

    const crashed = openNodeStore(image);
    assert.equal(crashed.appliedIndex(), 5);
    assert.deepEqual(storedHardState(crashed), { term: 1, vote: 'a', commit: 3 });
    assert.deepEqual(crashed.log.initialState().hardState, { term: 1, vote: 'a', commit: 5 });
    const raw = new RawNode({
      id: 'a',
      storage: crashed.log,
      rng: new Prng(1),
      electionTicks: 10,
      heartbeatTicks: 1,
      applied: crashed.appliedIndex(),
    });
    assert.equal(raw.raft.log.committed, 5);
    assert.equal(raw.raft.log.applied, 5);
    await crashed.close();
  });
});
