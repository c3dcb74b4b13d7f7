/**
 * The LMDB LogStorage must answer exactly like the core's MemoryStorage (the
 * reference the simulator uses) for the same sequence of writes: indexes,
 * terms, entry slices with size limits, and the same errors at the edges.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DkvError, ErrorCode } from '../../src/errors.js';
import { type Entry, entrySize, type HardState, MemoryStorage } from '../../src/raft/index.js';
import type { LmdbNodeStore } from '../../src/storage/index.js';
import { openNodeStore } from '../../src/storage/index.js';
import { append, emptySnapshotData, noopEntry, putEntry, tmpStore } from './helpers.js';

type Op =
  | { op: 'append'; from: number; to: number; term: number }
  | { op: 'compact'; index: number }
  | { op: 'hardState'; hs: HardState }
  | { op: 'snapshot'; index: number; term: number };

/** Entries from..to of a term; every third is a no-op, the others puts of varying size (for maxBytes). */
function makeEntries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push(i % 3 === 0 ? noopEntry(i, term) : putEntry(i, term, `k${i}`, 'v'.repeat((i * 7) % 40)));
  }
  return out;
}

const scenarios: { name: string; ops: Op[] }[] = [
  { name: 'empty log', ops: [] },
  { name: 'append', ops: [{ op: 'append', from: 1, to: 6, term: 1 }] },
  {
    name: 'a conflicting tail is overwritten',
    ops: [
      { op: 'append', from: 1, to: 6, term: 1 },
      { op: 'append', from: 4, to: 5, term: 2 },
    ],
  },
  {
    name: 'append at the end, then overwrite from the middle',
    ops: [
      { op: 'append', from: 1, to: 3, term: 1 },
      { op: 'append', from: 4, to: 8, term: 2 },
      { op: 'append', from: 6, to: 9, term: 3 },
    ],
  },
  {
    name: 'compact, then append and overwrite',
    ops: [
      { op: 'append', from: 1, to: 8, term: 1 },
      { op: 'compact', index: 4 },
      { op: 'compact', index: 2 },
      { op: 'append', from: 6, to: 10, term: 2 },
    ],
  },
  {
    name: 'compact everything: an empty log still answers term(compacted)',
    ops: [
      { op: 'append', from: 1, to: 5, term: 1 },
      { op: 'compact', index: 5 },
    ],
  },
  {
    name: 'append overlapping the compacted prefix skips it',
    ops: [
      { op: 'append', from: 1, to: 6, term: 1 },
      { op: 'compact', index: 3 },
      { op: 'append', from: 2, to: 8, term: 2 },
    ],
  },
  {
    name: 'append wholly below the compaction point is ignored',
    ops: [
      { op: 'append', from: 1, to: 6, term: 1 },
      { op: 'compact', index: 5 },
      { op: 'append', from: 2, to: 4, term: 2 },
    ],
  },
  {
    name: 'snapshot replaces the log, then the log grows after it',
    ops: [
      { op: 'append', from: 1, to: 4, term: 1 },
      { op: 'snapshot', index: 20, term: 5 },
      { op: 'append', from: 21, to: 24, term: 5 },
    ],
  },
  {
    name: 'hard state',
    ops: [
      { op: 'append', from: 1, to: 2, term: 1 },
      { op: 'hardState', hs: { term: 3, vote: 'b', commit: 2 } },
    ],
  },
];

/** The outcome of a call, comparable across the two implementations. */
function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    if (Array.isArray(v)) {
      return (v as Entry[]).map((e) => ({ ...e, data: Buffer.from(e.data).toString('hex') }));
    }
    return v;
  } catch (err) {
    if (err instanceof DkvError) throw err;
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

/** Apply every op to both storages (applying entries as needed so the LMDB store may compact). */
/** Append the same entries to the reference and to the store. */
async function appendBoth(mem: MemoryStorage, store: LmdbNodeStore, ents: Entry[]): Promise<void> {
  mem.append(ents);
  await append(store, ents);
}

async function run(mem: MemoryStorage, store: LmdbNodeStore, op: Op): Promise<void> {
  switch (op.op) {
    case 'append':
      await appendBoth(mem, store, makeEntries(op.from, op.to, op.term));
      break;
    case 'compact': {
      mem.compact(op.index);
      const applied = store.appliedIndex();
      if (op.index > applied) await store.apply(store.log.entries(applied + 1, op.index + 1, Infinity));
      await store.compact(op.index);
      break;
    }
    case 'hardState':
      mem.setHardState(op.hs);
      await store.persist({ hardState: op.hs, entries: [], snapshot: null });
      break;
    case 'snapshot': {
      const meta = { index: op.index, term: op.term, confState: { voters: ['a'], learners: [] } };
      mem.applySnapshot({ meta, data: new Uint8Array(0) });
      await store.persist({
        hardState: null,
        entries: [],
        snapshot: { meta, data: emptySnapshotData(op.index) },
      });
      break;
    }
  }
}

/** Compare every read the core makes, over and around the kept range. */
function compare(mem: MemoryStorage, store: LmdbNodeStore, where: string): void {
  const log = store.log;
  assert.equal(log.firstIndex(), mem.firstIndex(), `${where}: firstIndex`);
  assert.equal(log.lastIndex(), mem.lastIndex(), `${where}: lastIndex`);
  // The one intended difference: the commit index read back is at least the applied index.
  const memHs = mem.initialState().hardState;
  const commit = Math.max(memHs.commit, store.appliedIndex());
  assert.deepEqual(log.initialState().hardState, { ...memHs, commit }, `${where}: hard state`);
  const first = mem.firstIndex();
  const last = mem.lastIndex();
  for (let i = Math.max(0, first - 3); i <= last + 3; i++) {
    assert.deepEqual(
      outcome(() => log.term(i)),
      outcome(() => mem.term(i)),
      `${where}: term(${i})`,
    );
  }
  for (let lo = Math.max(0, first - 2); lo <= last + 2; lo++) {
    for (let hi = lo - 1; hi <= last + 3; hi++) {
      // Also the exact size of the first two entries, and one byte less: limitSize's boundary.
      const firstTwo = (() => {
        try {
          return mem.entries(lo, lo + 2, Infinity).reduce((n, e) => n + entrySize(e), 0);
        } catch {
          return 0;
        }
      })();
      for (const maxBytes of [0, 100, firstTwo, firstTwo - 1, Infinity]) {
        assert.deepEqual(
          outcome(() => log.entries(lo, hi, maxBytes)),
          outcome(() => mem.entries(lo, hi, maxBytes)),
          `${where}: entries(${lo}, ${hi}, ${maxBytes})`,
        );
      }
    }
  }
}

describe('LMDB LogStorage behaves exactly like MemoryStorage', () => {
  for (const s of scenarios) {
    test(s.name, async () => {
      const { store, dir } = tmpStore();
      const mem = new MemoryStorage();
      try {
        compare(mem, store, 'initially');
        for (const [i, op] of s.ops.entries()) {
          await run(mem, store, op);
          compare(mem, store, `after op ${i} (${op.op})`);
        }
      } finally {
        await store.close();
      }
      // The store answered from what it keeps in memory of its writes; reopened, it reads LMDB.
      const reopened = openNodeStore(dir);
      try {
        compare(mem, reopened, 'after reopening');
      } finally {
        await reopened.close();
      }
    });
  }

  test('appending past the end (a gap) is refused by both', async () => {
    const { store } = tmpStore();
    const mem = new MemoryStorage();
    await appendBoth(mem, store, makeEntries(1, 3, 1));
    const gap = makeEntries(5, 6, 1);
    assert.throws(() => mem.append(gap), /missing log entry/);
    await assert.rejects(append(store, gap), /missing log entry/);
    compare(mem, store, 'after the refused append');
    await store.close();
  });

  test('a log longer than the entries kept in memory reads the older ones from LMDB', async () => {
    const { store } = tmpStore();
    const mem = new MemoryStorage();
    await appendBoth(mem, store, makeEntries(1, 6000, 1));
    await appendBoth(mem, store, makeEntries(6001, 6002, 2));
    const log = store.log;
    for (const [lo, hi] of [
      [1, 4],
      [1800, 2200],
      [4900, 5100],
      [1, 6003],
      [5990, 6003],
    ] as const) {
      assert.deepEqual(
        outcome(() => log.entries(lo, hi, Infinity)),
        outcome(() => mem.entries(lo, hi, Infinity)),
      );
      assert.deepEqual(
        outcome(() => log.entries(lo, hi, 500)),
        outcome(() => mem.entries(lo, hi, 500)),
      );
    }
    for (const i of [1, 1904, 4978, 4979, 4980, 6000, 6002])
      assert.equal(log.term(i), mem.term(i), `term(${i})`);
    await store.close();
  });

  test('snapshot() describes the applied state; term(applied) always answers', async () => {
    const { store } = tmpStore();
    await append(store, makeEntries(1, 5, 2));
    assert.deepEqual(store.log.snapshot().meta, {
      index: 0,
      term: 0,
      confState: { voters: [], learners: [] },
    });
    await store.apply(store.log.entries(1, 4, Infinity));
    await store.compact(3);
    const snap = store.log.snapshot();
    assert.deepEqual(snap.meta, { index: 3, term: 2, confState: { voters: [], learners: [] } });
    assert.equal(snap.data.byteLength, 0, 'the data is streamed lazily with snapshotChunks');
    await assert.rejects(store.compact(4), /past the applied index 3/);
    await store.close();
  });
});

describe('log entry checksums', () => {
  test('a flipped byte in a stored entry makes reads throw DATA_LOSS naming the index', async () => {
    const { store, dir } = tmpStore();
    await append(store, makeEntries(1, 5, 1));
    await store.close();

    // Damage entry 3 through a separate raw handle on the same `log` DB.
    const { open } = await import('lmdb');
    const raw = open({ path: dir, noSubdir: false, maxDbs: 4 });
    const rawLog = raw.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
    const key = Buffer.alloc(8);
    key.writeUInt32BE(3, 4);
    const value = rawLog.get(key);
    assert.ok(value, 'entry 3 is stored under its 8-byte big-endian index');
    const damaged = Buffer.from(value);
    damaged[damaged.length - 1]! ^= 0x01;
    await rawLog.put(key, damaged);
    await raw.close();

    const reopened = openNodeStore(dir);
    try {
      const isCorrupt3 = (err: unknown) =>
        err instanceof DkvError &&
        err.code === ErrorCode.DataLoss &&
        /raft log entry 3 is corrupt \(checksum mismatch\)/.test(err.message);
      assert.throws(() => reopened.log.entries(1, 6, Infinity), isCorrupt3);
      assert.throws(() => reopened.log.term(3), isCorrupt3);
      assert.throws(() => reopened.log.entries(3, 4, Infinity), isCorrupt3);
      // Undamaged entries still read.
      assert.equal(reopened.log.term(2), 1);
      assert.equal(reopened.log.entries(4, 6, Infinity).length, 2);
      // Applying through the damaged entry is impossible: the driver reads it via entries().
      await assert.rejects(async () => reopened.apply(reopened.log.entries(1, 4, Infinity)), isCorrupt3);
    } finally {
      await reopened.close();
    }
  });
});
