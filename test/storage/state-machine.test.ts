/**
 * The KV state machine: put/delete/cas semantics and revisions, range scans
 * in byte order, membership from conf-change entries, and the key-size limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DkvError, ErrorCode } from '../../src/errors.js';
import { ConfChangeType, type Entry, EntryType } from '../../src/raft/index.js';
import { ByteWriter } from '../../src/storage/bytes.js';
import { encodeRequest, MAX_KEY_BYTES, MAX_VALUE_BYTES, openNodeStore } from '../../src/storage/index.js';
import { lmdbMaxKeySize } from '../../src/storage/lmdb-dbs.js';
import { append, appendAndApply, confEntry, noopEntry, putEntry, requestEntry, tmpStore } from './helpers.js';

const b = (s: string) => Buffer.from(s);

describe('put, delete, compare-and-swap', () => {
  test('results and revisions follow the entry index', async () => {
    const { store } = tmpStore();
    const results = await appendAndApply(store, [
      noopEntry(1, 1),
      putEntry(2, 1, 'k', 'v1'),
      putEntry(3, 1, 'k', 'v2'),
      requestEntry(4, 1, { op: 'delete', key: b('k') }, 'del-1'),
      requestEntry(5, 1, { op: 'delete', key: b('k') }, 'del-2'),
      requestEntry(6, 1, { op: 'cas', key: b('c'), expected: null, value: b('created') }),
      requestEntry(7, 1, { op: 'cas', key: b('c'), expected: null, value: b('again') }),
      requestEntry(8, 1, { op: 'cas', key: b('c'), expected: b('wrong'), value: b('x') }),
      requestEntry(9, 1, { op: 'cas', key: b('c'), expected: b('created'), value: b('swapped') }),
      requestEntry(10, 1, { op: 'cas', key: b('absent'), expected: b('anything'), value: b('x') }),
      requestEntry(11, 1, { op: 'cas', key: b('c'), expected: b('swappe'), value: b('x') }),
    ]);
    assert.deepEqual(results, [
      { requestId: null, result: null },
      { requestId: 'req-2', result: { op: 'put', revision: 2 } },
      { requestId: 'req-3', result: { op: 'put', revision: 3 } },
      { requestId: 'del-1', result: { op: 'delete', deleted: true, revision: 4 } },
      { requestId: 'del-2', result: { op: 'delete', deleted: false, revision: 5 } },
      { requestId: 'req-6', result: { op: 'cas', swapped: true, current: null, revision: 6 } },
      { requestId: 'req-7', result: { op: 'cas', swapped: false, current: b('created'), revision: 7 } },
      { requestId: 'req-8', result: { op: 'cas', swapped: false, current: b('created'), revision: 8 } },
      { requestId: 'req-9', result: { op: 'cas', swapped: true, current: null, revision: 9 } },
      { requestId: 'req-10', result: { op: 'cas', swapped: false, current: null, revision: 10 } },
      // Comparison is of exact bytes: a prefix of the value does not match.
      { requestId: 'req-11', result: { op: 'cas', swapped: false, current: b('swapped'), revision: 11 } },
    ]);
    assert.equal(store.get(b('k')), null);
    assert.deepEqual(store.get(b('c')), { value: b('swapped'), modRevision: 9 });
    assert.equal(store.appliedIndex(), 11);
    await store.close();
  });

  test('an empty value is a value, distinct from absence', async () => {
    const { store } = tmpStore();
    const results = await appendAndApply(store, [
      putEntry(1, 1, 'e', ''),
      requestEntry(2, 1, { op: 'cas', key: b('e'), expected: null, value: b('x') }),
      requestEntry(3, 1, { op: 'cas', key: b('e'), expected: b(''), value: b('y') }),
    ]);
    assert.deepEqual(
      results.map((r) => r.result),
      [
        { op: 'put', revision: 1 },
        { op: 'cas', swapped: false, current: b(''), revision: 2 },
        { op: 'cas', swapped: true, current: null, revision: 3 },
      ],
    );
    await store.close();
  });

  test('apply refuses an entry that is not applied+1, and writes nothing', async () => {
    const { store } = tmpStore();
    await appendAndApply(store, [putEntry(1, 1, 'a', '1')]);
    await append(store, [putEntry(2, 1, 'b', '2'), putEntry(3, 1, 'c', '3')]);
    await assert.rejects(store.apply([putEntry(3, 1, 'c', '3')]), /apply of entry 3 after applied index 1/);
    await assert.rejects(
      store.apply([putEntry(1, 1, 'a', 'again')]),
      /apply of entry 1 after applied index 1/,
    );
    assert.equal(store.appliedIndex(), 1);
    assert.equal(store.get(b('c')), null);
    assert.deepEqual(store.get(b('a')), { value: b('1'), modRevision: 1 });
    await store.close();
  });

  test('a failure writing applied state rolls back the whole batch and stops the store', async () => {
    const { store, dir } = tmpStore();
    const batch = [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2'), putEntry(3, 1, 'c', '3')];
    await append(store, batch);
    const fatal: Error[] = [];
    store.onFatal = (e) => fatal.push(e);
    const kv = store.dbs.kv;
    const realPut = kv.putSync.bind(kv);
    let puts = 0;
    kv.putSync = ((key: Buffer, value: Buffer) => {
      if (++puts === 2) throw new Error('injected disk failure');
      return realPut(key, value);
    }) as typeof kv.putSync;
    await assert.rejects(store.apply(batch), /injected disk failure/);
    kv.putSync = realPut;
    // The applied state was visible in memory and is not in LMDB: the store must not go on.
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]!.message, /injected disk failure/);
    assert.throws(
      () => store.writeReady({ hardState: null, entries: [], snapshot: null, apply: [] }),
      /an earlier write failed: injected disk failure/,
    );
    await store.close();
    // On disk nothing of the batch landed, applied index included; reopened, it applies cleanly.
    const reopened = openNodeStore(dir);
    assert.equal(reopened.appliedIndex(), 0);
    assert.equal(reopened.get(b('a')), null, 'the put before the failure was rolled back');
    await reopened.apply(batch);
    assert.equal(reopened.appliedIndex(), 3);
    assert.deepEqual(reopened.get(b('c')), { value: b('3'), modRevision: 3 });
    await reopened.close();
  });
});

describe('range', () => {
  async function filled() {
    const { store } = tmpStore();
    const keys = [
      b('a'),
      b('app'),
      b('apple'),
      b('apples'),
      b('apricot'),
      b('b'),
      Buffer.from([0x00]),
      Buffer.from([0x00, 0x00]),
      Buffer.from([0x61, 0xff]),
      Buffer.from([0xff]),
      Buffer.from([0xff, 0x00]),
      Buffer.from([0xff, 0xff]),
    ];
    await appendAndApply(
      store,
      keys.map((k, i) => putEntry(i + 1, 1, k, `v${i}`)),
    );
    return { store, keys };
  }
  const hex = (r: { kvs: { key: Buffer }[]; more: boolean }) => ({
    keys: r.kvs.map((kv) => kv.key.toString('hex')),
    more: r.more,
  });
  const h = (...ks: (string | number[])[]) => ks.map((k) => Buffer.from(k as string).toString('hex'));

  test('all keys come in byte order, binary keys included', async () => {
    const { store, keys } = await filled();
    const all = store.range(Buffer.alloc(0), null, 100);
    assert.deepEqual(
      all.kvs.map((kv) => kv.key),
      [...keys].sort(Buffer.compare),
    );
    assert.deepEqual(all.kvs[0]!.key, Buffer.from([0x00]));
    assert.deepEqual(all.kvs.at(-1)!.key, Buffer.from([0xff, 0xff]));
    assert.equal(all.more, false);
    assert.deepEqual(all.kvs[1]!.value, { value: b('v7'), modRevision: 8 });
    await store.close();
  });

  test('prefix, startAfter, limit and more', async () => {
    const { store } = await filled();
    assert.deepEqual(hex(store.range(b('ap'), null, 10)), {
      keys: h('app', 'apple', 'apples', 'apricot'),
      more: false,
    });
    assert.deepEqual(hex(store.range(b('ap'), null, 2)), { keys: h('app', 'apple'), more: true });
    assert.deepEqual(hex(store.range(b('ap'), b('apple'), 2)), { keys: h('apples', 'apricot'), more: false });
    assert.deepEqual(hex(store.range(b('ap'), b('apple'), 1)), { keys: h('apples'), more: true });
    // A startAfter that is not itself a key.
    assert.deepEqual(hex(store.range(b('ap'), b('apq'), 10)), { keys: h('apricot'), more: false });
    // startAfter before the prefix: the scan starts at the prefix.
    assert.deepEqual(hex(store.range(b('ap'), b('a'), 10)).keys.length, 4);
    // startAfter after the prefix range: nothing.
    assert.deepEqual(hex(store.range(b('ap'), b('b'), 10)), { keys: [], more: false });
    assert.deepEqual(hex(store.range(b('apricot'), b('apricot'), 10)), { keys: [], more: false });
    // The exact prefix key is included.
    assert.deepEqual(hex(store.range(b('a'), null, 1)), { keys: h('a'), more: true });
    // Prefixes ending in 0xff, and the all-0xff prefix (no upper bound).
    assert.deepEqual(hex(store.range(Buffer.from([0x61, 0xff]), null, 10)).keys, ['61ff']);
    assert.deepEqual(hex(store.range(Buffer.from([0xff]), null, 10)).keys, ['ff', 'ff00', 'ffff']);
    assert.deepEqual(hex(store.range(Buffer.from([0xff, 0xff]), null, 10)).keys, ['ffff']);
    assert.deepEqual(hex(store.range(Buffer.from([0x00]), Buffer.from([0x00]), 10)).keys, ['0000']);
    // No such prefix.
    assert.deepEqual(hex(store.range(b('zz'), null, 10)), { keys: [], more: false });
    // Paging through everything with startAfter = the last key returned.
    const seen: string[] = [];
    let after: Buffer | null = null;
    for (;;) {
      const page = store.range(Buffer.alloc(0), after, 5);
      seen.push(...page.kvs.map((kv) => kv.key.toString('hex')));
      if (!page.more) break;
      after = page.kvs.at(-1)!.key;
    }
    assert.deepEqual(seen, hex(store.range(Buffer.alloc(0), null, 100)).keys);
    await store.close();
  });

  test('bounds longer than any storable key are handled, not passed to LMDB', async () => {
    const { store } = await filled();
    const long = Buffer.concat([b('app'), Buffer.alloc(MAX_KEY_BYTES + 10, 0x00)]);
    assert.deepEqual(hex(store.range(long, null, 10)), { keys: [], more: false });
    assert.deepEqual(hex(store.range(b('ap'), long, 10)), {
      keys: h('apple', 'apples', 'apricot'),
      more: false,
    });
    assert.equal(store.get(long), null);
    assert.equal(store.get(Buffer.alloc(0)), null);
    assert.equal(
      store.range(Buffer.alloc(0), Buffer.alloc(0), 100).kvs.length,
      12,
      'an empty startAfter excludes nothing',
    );
    assert.throws(() => store.range(b(''), null, 0), /limit 0/);
    await store.close();
  });
});

describe('membership from conf-change entries', () => {
  test('conf state follows Raft.applyConfChange; addresses come from the context', async () => {
    const { store } = tmpStore();
    const entries: Entry[] = [
      confEntry(1, 1, ConfChangeType.AddNode, 'a'),
      confEntry(2, 1, ConfChangeType.AddNode, 'b', '10.0.0.2:7070'),
      confEntry(3, 1, ConfChangeType.AddLearner, 'c', '10.0.0.3:7070'),
      confEntry(4, 1, ConfChangeType.AddLearner, 'd', '10.0.0.4:7070'),
    ];
    const results = await appendAndApply(store, entries);
    assert.deepEqual(
      results,
      entries.map(() => ({ requestId: null, result: null })),
    );
    assert.deepEqual(store.confState(), { voters: ['a', 'b'], learners: ['c', 'd'] });
    assert.deepEqual(store.log.initialState().confState, { voters: ['a', 'b'], learners: ['c', 'd'] });
    assert.deepEqual(
      [...store.memberAddresses()],
      [
        ['b', '10.0.0.2:7070'],
        ['c', '10.0.0.3:7070'],
        ['d', '10.0.0.4:7070'],
      ],
    );

    await appendAndApply(store, [
      // Promote c; an empty context keeps its known address.
      confEntry(5, 1, ConfChangeType.AddNode, 'c'),
      // Demote b to learner, with a new address.
      confEntry(6, 1, ConfChangeType.AddLearner, 'b', '10.0.0.22:7070'),
      confEntry(7, 1, ConfChangeType.RemoveNode, 'd'),
      putEntry(8, 1, 'k', 'v'),
    ]);
    assert.deepEqual(store.confState(), { voters: ['a', 'c'], learners: ['b'] });
    assert.deepEqual(Object.fromEntries(store.memberAddresses()), {
      b: '10.0.0.22:7070',
      c: '10.0.0.3:7070',
    });
    assert.equal(store.log.snapshot().meta.confState.voters.join(), 'a,c');
    await store.close();
  });

  test('an undecodable entry stops apply with a clear error before anything is written', async () => {
    const { store } = tmpStore();
    const bad: Entry = { index: 2, term: 1, type: EntryType.Normal, data: new Uint8Array([9, 9, 9]) };
    await append(store, [putEntry(1, 1, 'a', '1'), bad]);
    await assert.rejects(
      store.apply([putEntry(1, 1, 'a', '1'), bad]),
      (err: unknown) =>
        err instanceof DkvError &&
        err.code === ErrorCode.Internal &&
        /raft log entry 2 cannot be applied/.test(err.message),
    );
    assert.equal(store.appliedIndex(), 0);
    assert.equal(store.get(b('a')), null);
    await store.close();
  });
});

describe('key and value limits', () => {
  test('a key of MAX_KEY_BYTES is stored, read and scanned', async () => {
    const { store } = tmpStore();
    const key = Buffer.alloc(MAX_KEY_BYTES, 0xab);
    await appendAndApply(store, [putEntry(1, 1, key, 'big-key')]);
    assert.deepEqual(store.get(key), { value: b('big-key'), modRevision: 1 });
    assert.deepEqual(store.range(key, null, 10).kvs[0]?.key, key);
    // LMDB's own limit lies above ours (1978 bytes at a 4 KiB page size).
    assert.ok(
      lmdbMaxKeySize(store.dbs.env) >= MAX_KEY_BYTES,
      `LMDB max key size ${lmdbMaxKeySize(store.dbs.env)}`,
    );
    await store.close();
  });

  test('above the limits: encodeRequest refuses with INVALID_ARGUMENT; LMDB itself refuses past its max', async () => {
    const tooLong = Buffer.alloc(MAX_KEY_BYTES + 1, 1);
    const isInvalid = (re: RegExp) => (err: unknown) =>
      err instanceof DkvError && err.code === ErrorCode.InvalidArgument && re.test(err.message);
    assert.throws(
      () => encodeRequest({ id: 'x', command: { op: 'put', key: tooLong, value: b('v') } }),
      isInvalid(/key is 1025 bytes, over the limit of 1024 bytes/),
    );
    assert.throws(
      () => encodeRequest({ id: 'x', command: { op: 'delete', key: Buffer.alloc(0) } }),
      isInvalid(/key must not be empty/),
    );
    assert.throws(
      () =>
        encodeRequest({
          id: 'x',
          command: { op: 'put', key: b('k'), value: Buffer.alloc(MAX_VALUE_BYTES + 1) },
        }),
      isInvalid(/value is 1048577 bytes, over the limit/),
    );
    assert.throws(
      () =>
        encodeRequest({
          id: 'x',
          command: { op: 'cas', key: b('k'), expected: Buffer.alloc(MAX_VALUE_BYTES + 1), value: b('v') },
        }),
      isInvalid(/expected value is/),
    );
    encodeRequest({ id: 'x', command: { op: 'put', key: b('k'), value: Buffer.alloc(MAX_VALUE_BYTES) } });

    // Past encodeRequest (a hand-made payload), apply refuses before LMDB sees the key...
    const { store } = tmpStore();
    const lmdbMax = lmdbMaxKeySize(store.dbs.env);
    const handMade = new ByteWriter()
      .u8(1)
      .u8(1)
      .string('evil')
      .bytes(Buffer.alloc(lmdbMax + 1, 2))
      .bytes(b('v'));
    const entry: Entry = { index: 1, term: 1, type: EntryType.Normal, data: handMade.finish() };
    await append(store, [entry]);
    await assert.rejects(
      store.apply([entry]),
      /raft log entry 1 cannot be applied: key is \d+ bytes, over the limit/,
    );
    assert.equal(store.appliedIndex(), 0);
    // ...and LMDB itself throws for keys over its max key size.
    assert.throws(() => store.dbs.kv.putSync(Buffer.alloc(lmdbMax + 1, 3), b('v')), /maximum key size/);
    await store.close();
  });
});
