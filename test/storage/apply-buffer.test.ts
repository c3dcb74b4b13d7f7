/**
 * Committed entries are applied in memory (ApplyBuffer) and written to LMDB
 * with a later write group. Reads must see every applied change at once and
 * in the right order (buffer over LMDB, ranges merged), LMDB must get the same
 * state with its applied index, and a snapshot install must replace buffered
 * state rather than sit under it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfChangeType, type Entry } from '../../src/raft/index.js';
import { ApplyBuffer, ApplyLayer } from '../../src/storage/apply-buffer.js';
import { type LmdbNodeStore, openNodeStore, type StoredValue } from '../../src/storage/index.js';
import { APPLY_BUFFER_HURRY_BYTES, APPLY_WRITE_DELAY_MS } from '../../src/storage/lmdb-node-store.js';
import { DEFER_MS } from '../../src/storage/write-queue.js';
import {
  append,
  appendAndApply,
  confEntry,
  emptySnapshotData,
  putEntry,
  requestEntry,
  tmpStore,
} from './helpers.js';

const b = (s: string) => Buffer.from(s);
const sv = (value: string, modRevision: number): StoredValue => ({ value: b(value), modRevision });

function layer(applied: number, kv: Record<string, StoredValue | null>): ApplyLayer {
  const l = new ApplyLayer();
  for (const [k, v] of Object.entries(kv)) l.kv.set(k, v); // keys as latin1 strings, one char per byte
  l.applied = applied;
  return l;
}

/** Apply entries the way the node does: writeReady, results at once, no waiting for a transaction. */
function applyNow(store: LmdbNodeStore, entries: Entry[]) {
  const out = store.writeReady({ hardState: null, entries: [], snapshot: null, apply: entries });
  assert.ok(out.applied, 'applied in memory');
  return out.applied;
}

/** Count the store's transactions. */
function countTransactions(store: LmdbNodeStore): { n: number } {
  const count = { n: 0 };
  const env = store.dbs.env;
  const sync = env.transactionSync.bind(env);
  const child = env.childTransaction.bind(env);
  env.transactionSync = ((action: () => unknown, flags?: number) => {
    count.n++;
    return sync(action as () => never, flags as never);
  }) as typeof env.transactionSync;
  env.childTransaction = ((action: () => unknown) => {
    count.n++;
    return child(action as () => never);
  }) as typeof env.childTransaction;
  const batch = env.batch.bind(env);
  env.batch = ((action: () => void) => {
    count.n++;
    return batch(action);
  }) as typeof env.batch;
  return count;
}

describe('ApplyBuffer', () => {
  test('reads look from the newest layer down; a sealed layer stays visible until released', () => {
    const buf = new ApplyBuffer();
    assert.equal(buf.get(b('a')), undefined);
    assert.equal(buf.applied(), 0);
    buf.add(layer(3, { a: sv('1', 2), b: sv('x', 3) }));
    const sealed = buf.seal();
    assert.ok(sealed);
    buf.add(layer(5, { a: null, c: sv('2', 5) }));
    assert.equal(buf.get(b('a')), null, 'deleted in the open layer');
    assert.deepEqual(buf.get(b('b')), sv('x', 3), 'from the sealed layer');
    assert.equal(buf.applied(), 5);
    buf.release(sealed);
    assert.equal(buf.get(b('b')), undefined, 'released: LMDB holds it now');
    assert.equal(buf.seal()?.applied, 5);
    assert.equal(buf.seal(), null, 'nothing open');
  });

  test('changesIn: newest value per key, in byte order, within bounds', () => {
    const buf = new ApplyBuffer();
    buf.add(layer(1, { b: sv('old', 1), '\xff': sv('high', 1) }));
    buf.seal();
    buf.add(layer(2, { b: sv('new', 2), a: null, c: sv('c', 2), bb: sv('bb', 2) }));
    const keys = (from: string | null, excl: boolean, to: string | null) =>
      buf
        .changesIn(from === null ? null : Buffer.from(from, 'latin1'), excl, to === null ? null : b(to))
        .map((c) => `${c.key.toString('latin1')}=${c.value?.value.toString() ?? 'null'}`);
    assert.deepEqual(keys(null, false, null), ['a=null', 'b=new', 'bb=bb', 'c=c', '\xff=high']);
    assert.deepEqual(keys('b', true, 'c'), ['bb=bb']);
    assert.deepEqual(keys('b', false, 'c'), ['b=new', 'bb=bb']);
  });

  test('membership comes from the newest layer that changed it; reset forgets everything', () => {
    const buf = new ApplyBuffer();
    const l = layer(1, {});
    l.confState = { voters: ['a'], learners: [] };
    l.members = new Map([['a', 'x:1']]);
    buf.add(l);
    buf.seal();
    buf.add(layer(2, { k: sv('v', 2) }));
    assert.deepEqual(buf.membership()?.confState, { voters: ['a'], learners: [] });
    buf.reset();
    assert.equal(buf.membership(), null);
    assert.equal(buf.get(b('k')), undefined);
    assert.equal(buf.applied(), 0);
  });
});

describe('applying in memory', () => {
  test('results and reads come at once; LMDB gets the state with the next group, applied index with it', async () => {
    const { store, dir } = tmpStore();
    await append(store, [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2')]);
    const count = countTransactions(store);
    const results = applyNow(store, [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2')]);
    assert.deepEqual(
      results.map((r) => r.result),
      [
        { op: 'put', revision: 1 },
        { op: 'put', revision: 2 },
      ],
    );
    assert.equal(count.n, 0, 'no transaction on the way to the reply');
    assert.equal(store.appliedIndex(), 2);
    assert.deepEqual(store.get(b('b')), sv('2', 2));
    assert.deepEqual(store.range(b(''), null, 10).kvs.length, 2);
    // The next durable write carries the applied state in its transaction.
    await append(store, [putEntry(3, 1, 'c', '3')]);
    assert.equal(count.n, 1, 'one transaction for the append and the applied state');
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 2);
    assert.deepEqual(reopened.get(b('a')), sv('1', 1));
    await reopened.close();
  });

  test('applied state is written once APPLY_WRITE_DELAY_MS has passed, not with every append', async () => {
    const { store, dir } = tmpStore();
    await append(store, [putEntry(1, 1, 'a', '1')]);
    applyNow(store, [putEntry(1, 1, 'a', '1')]);
    // An append right after the apply does not carry it: applies gather in memory first.
    await append(store, [putEntry(2, 1, 'b', '2')]);
    assert.equal(store.dbs.kv.get(b('a')), undefined, 'still only in memory');
    assert.equal(store.get(b('a'))?.value.toString(), '1', 'reads see it');
    await new Promise((r) => setTimeout(r, APPLY_WRITE_DELAY_MS + DEFER_MS + 30));
    // Read LMDB directly: the meta DB's applied index and the KV record.
    assert.ok(store.dbs.kv.get(b('a')), 'in LMDB');
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 1);
    await reopened.close();
  });

  test('applied values past APPLY_BUFFER_HURRY_BYTES are written without waiting for the delay', async () => {
    const { store } = tmpStore();
    const big = 'v'.repeat(1024 * 1024);
    const n = Math.ceil(APPLY_BUFFER_HURRY_BYTES / big.length);
    const entries = Array.from({ length: n }, (_, i) => putEntry(i + 1, 1, `k${i}`, big));
    await append(store, entries);
    applyNow(store, entries.slice(0, n - 1));
    await new Promise((r) => setTimeout(r, DEFER_MS + 30));
    assert.equal(store.dbs.kv.get(b('k0')), undefined, 'under the bound: still only in memory');
    applyNow(store, entries.slice(n - 1));
    const start = performance.now();
    while (store.dbs.kv.get(b('k0')) === undefined && performance.now() - start < APPLY_WRITE_DELAY_MS / 2) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(store.dbs.kv.get(b(`k${n - 1}`)), 'over the bound: in LMDB long before the delay');
    assert.equal(store.get(b('k0'))?.value.length, big.length);
    await store.close();
  });

  test('close() writes what is still waiting in memory', async () => {
    const { store, dir } = tmpStore();
    await append(store, [putEntry(1, 1, 'a', '1')]);
    applyNow(store, [putEntry(1, 1, 'a', '1')]);
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 1);
    assert.equal(reopened.get(b('a'))?.value.toString(), '1');
    await reopened.close();
  });

  test('a model run: reads and pages match a map of the applied state, buffered or written', async () => {
    const { store, dir } = tmpStore();
    const model = new Map<string, StoredValue>();
    const keys = ['a', 'ab', 'abc', 'b', 'ba', 'c', '\x00', '\xff', '\xff\xff', 'a\xff'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let index = 0;
    const check = () => {
      for (const k of keys) {
        const key = Buffer.from(k, 'latin1');
        assert.deepEqual(store.get(key), model.get(k) ?? null, `get ${JSON.stringify(k)}`);
      }
      for (const prefix of ['', 'a', 'b', '\xff']) {
        const want = [...model.keys()].filter((k) => k.startsWith(prefix)).sort();
        // Page through with a small limit: every key exactly once, in order.
        const got: string[] = [];
        let after: Buffer | null = null;
        for (;;) {
          const page = store.range(Buffer.from(prefix, 'latin1'), after, 2);
          for (const kv of page.kvs) {
            const k = kv.key.toString('latin1');
            got.push(k);
            assert.deepEqual(kv.value, model.get(k));
          }
          if (!page.more) break;
          after = page.kvs[page.kvs.length - 1]!.key;
        }
        assert.deepEqual(got, want, `range ${JSON.stringify(prefix)}`);
      }
    };
    for (let round = 0; round < 60; round++) {
      const batch: Entry[] = [];
      for (let i = rand(4) + 1; i > 0; i--) {
        index++;
        const k = keys[rand(keys.length)]!;
        const key = Buffer.from(k, 'latin1');
        const op = rand(3);
        if (op === 0) {
          batch.push(requestEntry(index, 1, { op: 'put', key, value: b(`v${index}`) }));
          model.set(k, sv(`v${index}`, index));
        } else if (op === 1) {
          batch.push(requestEntry(index, 1, { op: 'delete', key }));
          model.delete(k);
        } else {
          const expected = model.get(k)?.value ?? null;
          batch.push(requestEntry(index, 1, { op: 'cas', key, expected, value: b(`c${index}`) }));
          model.set(k, sv(`c${index}`, index));
        }
      }
      await append(store, batch);
      if (rand(3) === 0) await store.apply(batch);
      else {
        const results = applyNow(store, batch);
        for (const r of results) if (r.result?.op === 'cas') assert.equal(r.result.swapped, true);
      }
      check();
    }
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), index);
    for (const [k, v] of model) assert.deepEqual(reopened.get(Buffer.from(k, 'latin1')), v);
    assert.equal(reopened.range(b(''), null, 1000).kvs.length, model.size);
    await reopened.close();
  });

  test('membership changes are visible at once', async () => {
    const { store } = tmpStore();
    const entries = [
      confEntry(1, 1, ConfChangeType.AddNode, 'a', 'h:1'),
      confEntry(2, 1, ConfChangeType.AddLearner, 'b', 'h:2'),
    ];
    await append(store, entries);
    applyNow(store, entries);
    assert.deepEqual(store.confState(), { voters: ['a'], learners: ['b'] });
    assert.deepEqual(
      [...store.memberAddresses()],
      [
        ['a', 'h:1'],
        ['b', 'h:2'],
      ],
    );
    await store.close();
  });

  test('compaction up to the in-memory applied index writes the applied state first', async () => {
    const { store, dir } = tmpStore();
    const entries = [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2'), putEntry(3, 1, 'c', '3')];
    await append(store, entries);
    applyNow(store, entries);
    await store.compact(3);
    assert.equal(store.log.firstIndex(), 4);
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 3);
    assert.equal(reopened.log.snapshot().meta.index, 3);
    await reopened.close();
  });

  test('a snapshot install replaces buffered state; applies queued behind it see the installed state', async () => {
    const { store, dir } = tmpStore();
    const before = [putEntry(1, 1, 'stale', 'x'), putEntry(2, 1, 'k', 'old')];
    await append(store, before);
    applyNow(store, before);
    assert.deepEqual(store.get(b('stale')), sv('x', 1));
    // A snapshot at 10 with no keys, then entry 11 (a CAS that expects the key absent).
    const out = store.writeReady({
      hardState: null,
      entries: [],
      snapshot: {
        meta: { index: 10, term: 2, confState: { voters: ['a'], learners: [] } },
        data: emptySnapshotData(10),
      },
      apply: [],
    });
    assert.equal(out.applied, null, 'applied inside the install transaction');
    const cas = requestEntry(11, 2, { op: 'cas', key: b('k'), expected: null, value: b('new') });
    const next = store.writeReady({
      hardState: null,
      entries: [cas],
      snapshot: null,
      apply: [cas],
    });
    // Queued behind the install, so it cannot run against the buffered pre-snapshot state.
    assert.equal(next.applied, null);
    await out.written;
    const [r] = await next.written;
    assert.deepEqual(r!.result, { op: 'cas', swapped: true, current: null, revision: 11 });
    assert.equal(store.get(b('stale')), null, 'the buffered pre-snapshot key is gone');
    assert.deepEqual(store.get(b('k')), sv('new', 11));
    assert.equal(store.appliedIndex(), 11);
    // Once nothing is queued behind the install, applies are in memory again.
    await append(store, [putEntry(12, 2, 'z', '1')]);
    assert.ok(applyNow(store, [putEntry(12, 2, 'z', '1')]));
    await store.close();
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 12);
    assert.equal(reopened.get(b('stale')), null);
    await reopened.close();
  });
});

// appendAndApply is the helper other storage tests use: it must leave the state in LMDB.
test('apply() resolves once the applied state is committed to LMDB', async () => {
  const { store } = tmpStore();
  await appendAndApply(store, [putEntry(1, 1, 'a', '1')]);
  assert.ok(store.dbs.kv.get(b('a')));
  await store.close();
});
