/**
 * The lost-write check's bookkeeping: write numbers stamped into values and
 * read out of them, and the verdict on hand-made histories (a lost write, a
 * failed write whose value is last, a missing key, a foreign value).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stampHttp, Workload } from '../../scripts/bench/workload.js';
import { STAMP_BYTES, stampBase64, stampOf, WriteLedger } from '../../scripts/bench/write-ledger.js';

/** The value write `seq` carries, as the benchmark's puts build it. */
const valueOfWrite = (seq: number) => new Workload('dkv', 'put', 10, 20).stampedValue(seq);

describe('stamps', () => {
  test('a stamp is the value base64 starts with, and reads back as its number', () => {
    for (const seq of [0, 1, 42, 999_999_999_999]) {
      const value = valueOfWrite(seq);
      assert.equal(value.length, 20);
      assert.ok(value.toString('base64').startsWith(stampBase64(seq)));
      assert.equal(stampOf(value), seq);
    }
    assert.equal(stampBase64(7).length, (STAMP_BYTES / 3) * 4);
  });

  test("a put's HTTP body, dkv's or etcd's, carries the stamped value; the memoized one keeps stamp 0", () => {
    for (const [system, path] of [
      ['dkv', '/v0/kv'],
      ['etcd', '/v3/kv/put'],
    ] as const) {
      const workload = new Workload(system, 'put', 10, 100);
      const shape = workload.http(3);
      assert.equal(shape.path, path);
      const template = Buffer.from(shape.body!);
      const body = stampHttp(shape.body!, shape.stampAt!, 987_654_321);
      assert.deepEqual(shape.body, template, 'the memoized body is not written to');
      const json = JSON.parse(body.toString()) as { key: string; value: string };
      assert.equal(Buffer.from(json.key, 'base64').toString(), 'bench-00000003');
      assert.deepEqual(Buffer.from(json.value, 'base64'), workload.stampedValue(987_654_321));
      const memo = JSON.parse(template.toString()) as { value: string };
      assert.equal(stampOf(Buffer.from(memo.value, 'base64')), 0);
      assert.equal(body.length, template.length);
    }
    assert.equal(new Workload('dkv', 'get', 10, 100).http(3).stampAt, null);
  });

  test('values without a stamp read as none', () => {
    assert.equal(stampOf(Buffer.from('abcdefghijklmnop')), null);
    assert.equal(stampOf(Buffer.from('00000000001')), null, 'too short');
    assert.equal(stampOf(Buffer.from('0000000000x1rest')), null);
  });

  test('a put needs room for its stamp', () => {
    assert.throws(() => new Workload('etcd', 'put', 10, STAMP_BYTES - 1), /at least 12 bytes/);
    assert.doesNotThrow(() => new Workload('etcd', 'get', 10, 1));
  });
});

describe('WriteLedger.check', () => {
  /** Writes of key 5 at times (send, ack or null for a failed one), then the finals map. */
  function ledgerOf(writes: [key: number, sent: number, acked: number | null][]): WriteLedger {
    const ledger = new WriteLedger();
    for (const [key, sent, acked] of writes) {
      const seq = ledger.begin(key, sent);
      if (acked !== null) ledger.ack(seq, acked);
    }
    return ledger;
  }

  /** The keyspace as read back: each key holding the value of the write numbered beside it. */
  const holding = (...pairs: [key: number, seq: number][]) =>
    new Map(pairs.map(([key, seq]) => [key, valueOfWrite(seq)]));

  test('the last write, or one overlapping it, being what the key holds loses nothing', () => {
    // 1: sent 0, acked 10. 2: sent 5, acked 15 (overlaps 1). 3: key 6.
    const ledger = ledgerOf([
      [5, 0, 10],
      [5, 5, 15],
      [6, 1, 2],
    ]);
    for (const last of [1, 2]) {
      assert.deepEqual(ledger.check(holding([5, last], [6, 3])), {
        acked: 3,
        keys: 2,
        lost: 0,
        unexplained: 0,
        samples: [],
        failed: null,
      });
    }
  });

  test('a key holding a write acknowledged before another was sent has lost that other', () => {
    // 1: acked at 10; 2 sent at 11 and acked; 3 sent at 12 and acked.
    const ledger = ledgerOf([
      [5, 0, 10],
      [5, 11, 20],
      [5, 12, 21],
    ]);
    const check = ledger.check(holding([5, 1]));
    assert.equal(check.acked, 3);
    assert.equal(check.lost, 2);
    assert.equal(check.unexplained, 0);
    assert.match(
      check.samples[0]!,
      /write 2 \(key 5\) acknowledged, but the key holds a write acknowledged before/,
    );
    // Holding write 2 loses write 3 only if 3 was sent after 2's ack: it was not (12 < 20).
    assert.equal(ledger.check(holding([5, 2])).lost, 0);
  });

  test('a failed or unanswered write may take effect at any time: its value last is no loss', () => {
    const ledger = ledgerOf([
      [5, 0, null],
      [5, 50, 60],
    ]);
    assert.equal(ledger.check(holding([5, 1])).lost, 0);
    assert.equal(ledger.check(holding([5, 1])).acked, 1);
  });

  test('a missing key or a value no write to it wrote loses every acknowledged write to it', () => {
    const ledger = ledgerOf([
      [5, 0, 1],
      [5, 2, 3],
      [6, 4, 5],
      [7, 6, 7],
    ]);
    const check = ledger.check(
      new Map([
        // 5 is missing; 6 holds key 7's write; 7 holds an unstamped value.
        [6, valueOfWrite(4)],
        [7, Buffer.from('something else entirely')],
      ]),
    );
    assert.equal(check.lost, 4);
    assert.equal(check.unexplained, 3);
    assert.deepEqual(check.samples.slice(0, 3), [
      'key 5: missing',
      "key 6: holds the value of write 4, another key's or none",
      'key 7: holds an unstamped value ("something else e")',
    ]);
    assert.deepEqual(ledger.check(holding([5, 99], [6, 3], [7, 4])), {
      acked: 4,
      keys: 3,
      lost: 2,
      unexplained: 1,
      samples: ["key 5: holds the value of write 99, another key's or none"],
      failed: null,
    });
  });

  test('every write so far is judged each time; a loss once found stays counted; growth keeps every write', () => {
    const ledger = new WriteLedger();
    for (let i = 0; i < 5000; i++) ledger.ack(ledger.begin(i % 100, i), i + 0.5);
    assert.equal(ledger.size, 5000);
    assert.equal(ledger.acked(), 5000);
    const finals = new Map<number, Buffer>();
    for (let k = 0; k < 100; k++) finals.set(k, valueOfWrite(4901 + k)); // each key's last write
    assert.deepEqual(ledger.check(finals), {
      acked: 5000,
      keys: 100,
      lost: 0,
      unexplained: 0,
      samples: [],
      failed: null,
    });
    // Key 0 holding its write 4801 (acked at 4800.5) loses 4901, sent at 4900; an early write
    // held by key 1 (write 2, acked at 1.5) loses every later write to it: 49 of them.
    finals.set(0, valueOfWrite(4801));
    finals.set(1, valueOfWrite(2));
    assert.equal(ledger.check(finals).lost, 1 + 49);
    assert.equal(ledger.lostEver, 50);
    // A later write hides those losses from the next check, not from the run's count.
    ledger.ack(ledger.begin(0, 6000), 6001);
    ledger.ack(ledger.begin(1, 6000), 6001);
    finals.set(0, valueOfWrite(5001));
    finals.set(1, valueOfWrite(5002));
    assert.equal(ledger.check(finals).lost, 0);
    assert.equal(ledger.lostEver, 50);
  });

  test('a keyspace that could not be read back judges nothing and says why', () => {
    const ledger = ledgerOf([
      [5, 0, 1],
      [6, 0, null],
    ]);
    assert.deepEqual(ledger.unread('HTTP 503'), {
      acked: 1,
      keys: 0,
      lost: 0,
      unexplained: 0,
      samples: [],
      failed: 'HTTP 503',
    });
  });
});
