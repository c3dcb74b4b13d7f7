/**
 * EntryTail, the newest log entries kept in memory: it must hold exactly a
 * contiguous run of what was last appended, within its bounds, so that the
 * log storage answers from it only what LMDB would answer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Entry, EntryType, entrySize } from '../../src/raft/index.js';
import { EntryTail } from '../../src/storage/entry-tail.js';

function ents(from: number, to: number, term: number, bytes = 10): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++)
    out.push({ index: i, term, type: EntryType.Normal, data: new Uint8Array(bytes) });
  return out;
}

/** Index and term of every entry held, in order, read back through get(). */
function held(tail: EntryTail, lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let i = lo; i <= hi; i++) {
    const e = tail.get(i);
    if (e) out.push(`${e.index}@${e.term}`);
  }
  return out;
}

describe('EntryTail', () => {
  test('appends extend the run; slice answers only ranges wholly held', () => {
    const tail = new EntryTail(100, 1 << 20);
    tail.append(ents(5, 7, 1));
    tail.append(ents(8, 9, 1));
    assert.deepEqual(held(tail, 1, 20), ['5@1', '6@1', '7@1', '8@1', '9@1']);
    assert.deepEqual(
      tail.slice(6, 9)?.map((e) => e.index),
      [6, 7, 8],
    );
    assert.equal(tail.slice(4, 6), null, 'entry 4 is not held');
    assert.equal(tail.slice(9, 11), null, 'entry 10 is not held');
    assert.deepEqual(tail.slice(10, 10), [], 'an empty range just past the end');
  });

  test('an append inside the run replaces the conflicting tail', () => {
    const tail = new EntryTail(100, 1 << 20);
    tail.append(ents(1, 6, 1));
    tail.append(ents(4, 5, 2));
    assert.deepEqual(held(tail, 0, 10), ['1@1', '2@1', '3@1', '4@2', '5@2']);
    tail.append(ents(1, 1, 3));
    assert.deepEqual(held(tail, 0, 10), ['1@3']);
  });

  test('an append that does not touch the run starts a new one', () => {
    const tail = new EntryTail(100, 1 << 20);
    tail.append(ents(10, 12, 1));
    tail.append(ents(20, 21, 1));
    assert.deepEqual(held(tail, 0, 30), ['20@1', '21@1']);
    tail.append(ents(3, 4, 2));
    assert.deepEqual(held(tail, 0, 30), ['3@2', '4@2']);
  });

  test('bounded by entries and by bytes, dropping the oldest, never the newest', () => {
    const byCount = new EntryTail(4, 1 << 20);
    for (let i = 1; i <= 10; i++) byCount.append(ents(i, i, 1));
    assert.deepEqual(held(byCount, 0, 20), ['7@1', '8@1', '9@1', '10@1']);
    assert.equal(byCount.size, 4);

    const size = entrySize(ents(1, 1, 1, 100)[0]!);
    const byBytes = new EntryTail(100, 3 * size);
    byBytes.append(ents(1, 5, 1, 100));
    assert.deepEqual(held(byBytes, 0, 10), ['3@1', '4@1', '5@1']);
    // One entry over the byte bound alone is still held: the newest entry always is.
    byBytes.append(ents(6, 6, 1, 10 * size));
    assert.deepEqual(held(byBytes, 0, 10), ['6@1']);
  });

  test('compactTo forgets entries up to the compaction point; clear forgets all', () => {
    const tail = new EntryTail(100, 1 << 20);
    tail.append(ents(1, 8, 1));
    tail.compactTo(5);
    assert.deepEqual(held(tail, 0, 10), ['6@1', '7@1', '8@1']);
    tail.compactTo(20);
    assert.equal(tail.size, 0);
    tail.append(ents(21, 22, 2));
    assert.deepEqual(held(tail, 0, 30), ['21@2', '22@2']);
    tail.clear();
    assert.equal(tail.size, 0);
    assert.equal(tail.get(21), undefined);
  });

  test('a long run of single appends stays bounded and in order', () => {
    const tail = new EntryTail(64, 1 << 20);
    for (let i = 1; i <= 10_000; i++) tail.append(ents(i, i, 1 + (i >> 12)));
    assert.equal(tail.size, 64);
    assert.deepEqual(
      tail.slice(9_937, 10_001)?.map((e) => e.index),
      Array.from({ length: 64 }, (_, k) => 9_937 + k),
    );
  });
});
