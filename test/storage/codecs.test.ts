/**
 * The binary encodings: requests, log entries, stored values, meta records,
 * the snapshot stream, and the CRC-32 they rely on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { DkvError, ErrorCode } from '../../src/errors.js';
import { EntryType } from '../../src/raft/index.js';
import { ByteReader, ByteWriter, DecodeError } from '../../src/storage/bytes.js';
import { crc32, crc32Js } from '../../src/storage/crc32.js';
import { decodeEntry, encodeEntry, logKey, logKeyIndex } from '../../src/storage/entry-codec.js';
import {
  decodeConfState,
  decodeHardState,
  decodeMembers,
  encodeConfState,
  encodeHardState,
  encodeMembers,
} from '../../src/storage/meta-codec.js';
import { decodeRequest, encodeRequest } from '../../src/storage/request-codec.js';
import { decodeSnapshot, SnapshotEncoder } from '../../src/storage/snapshot-codec.js';
import type { Request } from '../../src/storage/types.js';
import { decodeStoredValue, encodeStoredValue } from '../../src/storage/value-codec.js';

describe('request codec', () => {
  const requests: Request[] = [
    { id: 'a:1:1', command: { op: 'put', key: Buffer.from('k'), value: Buffer.from('v') } },
    { id: '', command: { op: 'put', key: Buffer.from([0, 255, 0]), value: Buffer.alloc(0) } },
    { id: 'ünïcødé-✓', command: { op: 'delete', key: Buffer.from('gone') } },
    { id: 'x', command: { op: 'cas', key: Buffer.from('c'), expected: null, value: Buffer.from('new') } },
    {
      id: 'y',
      command: { op: 'cas', key: Buffer.from('c'), expected: Buffer.alloc(0), value: Buffer.from('v') },
    },
    {
      id: 'z',
      command: { op: 'cas', key: Buffer.from('c'), expected: randomBytes(300), value: randomBytes(70_000) },
    },
  ];
  for (const r of requests) {
    test(`round trip: ${r.command.op} ${JSON.stringify(r.id)}`, () => {
      const data = encodeRequest(r);
      assert.deepEqual(decodeRequest(data), r);
    });
  }

  test('compact: a small put costs a few bytes over its id, key and value', () => {
    const data = encodeRequest({
      id: 'n1:abc:42',
      command: { op: 'put', key: Buffer.from('key'), value: Buffer.from('val') },
    });
    assert.equal(data.byteLength, 2 + 1 + 9 + 1 + 3 + 1 + 3);
  });

  test('malformed payloads throw DecodeError', () => {
    const good = encodeRequest({
      id: 'i',
      command: { op: 'put', key: Buffer.from('k'), value: Buffer.from('v') },
    });
    assert.throws(() => decodeRequest(good.subarray(0, good.length - 1)), DecodeError);
    assert.throws(() => decodeRequest(Buffer.concat([good, Buffer.from([0])])), /trailing/);
    assert.throws(() => decodeRequest(Buffer.from([2, 1])), /version 2/);
    assert.throws(() => decodeRequest(Buffer.from([1, 9, 0, 1, 0x6b])), /unknown request op 9/);
    assert.throws(() => decodeRequest(new Uint8Array(0)), DecodeError);
  });
});

describe('log entry codec', () => {
  test('round trip, with the data as a plain Uint8Array', () => {
    for (const e of [
      { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
      { index: 2 ** 40 + 3, term: 2 ** 33, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) },
    ]) {
      const got = decodeEntry(e.index, encodeEntry(e));
      assert.deepEqual(got, e);
      assert.equal(Object.getPrototypeOf(got.data), Uint8Array.prototype);
    }
  });

  test('keys sort in index order and map back', () => {
    const idx = [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    const keys = idx.map(logKey);
    assert.deepEqual([...keys].sort(Buffer.compare), keys);
    assert.deepEqual(keys.map(logKeyIndex), idx);
  });

  test('every single-bit flip is caught as DATA_LOSS naming the index', () => {
    const raw = encodeEntry({ index: 7, term: 3, type: EntryType.Normal, data: new Uint8Array([9, 8, 7]) });
    for (let byte = 0; byte < raw.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(raw);
        bad[byte]! ^= 1 << bit;
        assert.throws(
          () => decodeEntry(7, bad),
          (err: unknown) =>
            err instanceof DkvError &&
            err.code === ErrorCode.DataLoss &&
            /raft log entry 7 is corrupt/.test(err.message),
        );
      }
    }
    assert.throws(() => decodeEntry(8, raw), /raft log entry 8 is corrupt \(wrong index\)/);
    assert.throws(() => decodeEntry(7, raw.subarray(0, 10)), /raft log entry 7 is corrupt \(truncated\)/);
  });
});

describe('small codecs', () => {
  test('varints round trip at their boundaries and refuse unsafe numbers', () => {
    const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
    const w = new ByteWriter(1);
    for (const v of values) w.uvarint(v);
    const r = new ByteReader(w.finish());
    assert.deepEqual(
      values.map(() => r.uvarint()),
      values,
    );
    r.done();
    assert.throws(() => new ByteWriter().uvarint(-1), /not a safe unsigned integer/);
    assert.throws(() => new ByteWriter().uvarint(2 ** 53), /not a safe unsigned integer/);
    assert.throws(() => new ByteReader(Buffer.alloc(9, 0xff)).uvarint(), DecodeError);
  });

  test('strings are written as UTF-8 exactly as TextEncoder writes them, growing the buffer', () => {
    // ASCII, multi-byte, an astral character, a lone surrogate (becomes U+FFFD), empty, and long.
    const strings = ['req-1', 'Grüße €', '😀', 'a\uD800b', '', 'x'.repeat(300)];
    const w = new ByteWriter(1);
    for (const s of strings) w.string(s);
    const expected = Buffer.concat(
      strings.map((s) => {
        const b = new TextEncoder().encode(s);
        return Buffer.concat([new ByteWriter().uvarint(b.byteLength).finish(), b]);
      }),
    );
    assert.deepEqual(w.finish(), expected);
    const r = new ByteReader(w.finish());
    assert.deepEqual(
      strings.map(() => r.string()),
      strings.map((s) => s.replace('\uD800', '\uFFFD')),
    );
    r.done();
  });

  test('stored values, hard state, conf state and members round trip', () => {
    assert.deepEqual(decodeStoredValue(encodeStoredValue(Buffer.from('hello'), 12345)), {
      value: Buffer.from('hello'),
      modRevision: 12345,
    });
    assert.deepEqual(decodeStoredValue(encodeStoredValue(Buffer.alloc(0), 1)), {
      value: Buffer.alloc(0),
      modRevision: 1,
    });
    const hs = { term: 9, vote: 'node-b', commit: 2 ** 40 };
    assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
    const cs = { voters: ['a', 'b', 'c'], learners: ['d'] };
    assert.deepEqual(decodeConfState(encodeConfState(cs)), cs);
    const members = new Map([
      ['a', '10.0.0.1:7070'],
      ['b', '[::1]:8080'],
    ]);
    assert.deepEqual(decodeMembers(encodeMembers(members)), members);
  });

  test('crc32: the JS fallback equals zlib, also when continued', () => {
    for (const n of [0, 1, 3, 64, 1000]) {
      const data = randomBytes(n);
      assert.equal(crc32Js(data), zlib.crc32(data) >>> 0);
      assert.equal(crc32(data), crc32Js(data));
      const half = Math.floor(n / 2);
      assert.equal(crc32Js(data.subarray(half), crc32Js(data.subarray(0, half))), crc32Js(data));
    }
    assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  });
});

describe('snapshot codec', () => {
  test('any chunk size yields the same stream, records straddling chunks', () => {
    const build = (chunkBytes: number) => {
      const enc = new SnapshotEncoder(42, chunkBytes);
      enc.addMember('a', '10.0.0.1:1');
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) {
        enc.addKv(Buffer.from(`k${i}`), i + 1, Buffer.alloc(i * 13, i));
        chunks.push(...enc.take());
      }
      enc.finish();
      chunks.push(...enc.take());
      for (const c of chunks) assert.ok(c.byteLength <= chunkBytes);
      return Buffer.concat(chunks);
    };
    const whole = build(1 << 20);
    for (const size of [1, 7, 64, 4096]) assert.deepEqual(build(size), whole);
    const { index, records } = decodeSnapshot(whole);
    assert.equal(index, 42);
    const recs = [...records()];
    assert.deepEqual(recs[0], { kind: 'member', id: 'a', address: '10.0.0.1:1' });
    assert.equal(recs.length, 21);
    assert.deepEqual(recs[20], {
      kind: 'kv',
      key: Buffer.from('k19'),
      modRevision: 20,
      value: Buffer.alloc(19 * 13, 19),
    });
    // records() can be read again from the start.
    assert.equal([...records()].length, 21);
  });

  test('truncated, damaged or foreign streams are refused', () => {
    const enc = new SnapshotEncoder(5, 1 << 20);
    enc.addKv(Buffer.from('k'), 1, Buffer.from('v'));
    enc.finish();
    const data = Buffer.concat(enc.take());
    assert.throws(() => decodeSnapshot(data.subarray(0, data.length - 1)), /checksum mismatch/);
    assert.throws(() => decodeSnapshot(Buffer.alloc(3)), /too short/);
    const foreign = Buffer.from(data);
    foreign.write('XXXX', 0);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(foreign.subarray(0, foreign.length - 4)));
    crc.copy(foreign, foreign.length - 4);
    assert.throws(() => decodeSnapshot(foreign), /bad magic/);
  });
});
