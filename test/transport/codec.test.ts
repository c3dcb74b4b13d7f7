/**
 * The transport codec: core messages survive the wire exactly, entries carry
 * a CRC32C that is checked on the way in, and local-only messages never
 * cross the network.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as wire from '../../src/gen/dkv/raft/v1/raft.js';
import {
  EMPTY_BYTES,
  EntryType,
  type Message,
  MessageType,
  makeMessage,
  Prng,
} from '../../src/raft/index.js';
import { DecodeError, decodeMessage, encodeMessage } from '../../src/transport/codec.js';
import { crc32c } from '../../src/transport/crc32c.js';
import { NETWORK_TYPES, randomBytes, randomMessage } from './helpers.js';

/** Core -> wire object -> protobuf bytes -> wire object -> core, as a batch crosses the network. */
function roundTrip(msgs: Message[]): Message[] {
  const bytes = wire.MessageBatch.encode({
    clusterId: 'c',
    from: 'a',
    to: 'b',
    messages: msgs.map(encodeMessage),
  }).finish();
  return wire.MessageBatch.decode(bytes).messages.map(decodeMessage);
}

describe('crc32c', () => {
  test('matches the published check value (RFC 3720 B.4 / "123456789")', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(EMPTY_BYTES), 0);
    // 32 zero bytes, from RFC 3720 B.4: exercises the 8-byte inner loop.
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  });

  test('every length agrees with the bytewise definition (slicing-by-8 tail handling)', () => {
    const rng = new Prng(7);
    const bitwise = (d: Uint8Array): number => {
      let c = 0xffffffff;
      for (const b of d) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    for (let len = 0; len < 40; len++) {
      const d = randomBytes(rng, len);
      assert.equal(crc32c(d), bitwise(d), `length ${len}`);
    }
  });
});

describe('codec round trip', () => {
  test('every network message type, random fields (seeded), survives the wire exactly', () => {
    const rng = new Prng(20240601);
    for (const type of NETWORK_TYPES) {
      const msgs = Array.from({ length: 25 }, () => randomMessage(rng, type, 'a', 'b'));
      assert.deepEqual(roundTrip(msgs), msgs, `type ${MessageType[type]}`);
    }
  });

  test('entries carry binary data (all 256 byte values, empty, large) and their CRC32C', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const large = randomBytes(new Prng(3), 200_000);
    const m = makeMessage({
      type: MessageType.App,
      from: 'a',
      to: 'b',
      entries: [
        { term: 1, index: 1, type: EntryType.Normal, data: EMPTY_BYTES },
        { term: 1, index: 2, type: EntryType.Normal, data: all },
        { term: 2, index: 3, type: EntryType.ConfChange, data: large },
      ],
    });
    const encoded = encodeMessage(m);
    assert.deepEqual(
      encoded.entries.map((e) => e.checksum),
      [0, crc32c(all), crc32c(large)],
    );
    assert.deepEqual(roundTrip([m]), [m]);
  });

  test('terms and indexes travel as uint64 decimal strings', () => {
    const m = makeMessage({ type: MessageType.Vote, from: 'a', to: 'b', term: 2 ** 53 - 1, index: 12 });
    const encoded = encodeMessage(m);
    assert.equal(encoded.term, '9007199254740991');
    assert.equal(encoded.index, '12');
    assert.equal(encoded.snapshotMeta, undefined);
  });

  test('a Snap carries its metadata only; the data travels in InstallSnapshot chunks', () => {
    const meta = { index: 9, term: 2, confState: { voters: ['a', 'b'], learners: ['c'] } };
    const m = makeMessage({
      type: MessageType.Snap,
      from: 'a',
      to: 'b',
      snapshot: { meta, data: EMPTY_BYTES },
    });
    assert.deepEqual(encodeMessage(m).snapshotMeta, {
      index: '9',
      term: '2',
      confState: { voters: ['a', 'b'], learners: ['c'] },
    });
    assert.deepEqual(roundTrip([m]), [m]);
  });
});

describe('codec rejects', () => {
  const entryMessage = (): wire.Message =>
    encodeMessage(
      makeMessage({
        type: MessageType.App,
        from: 'a',
        to: 'b',
        entries: [{ term: 1, index: 5, type: EntryType.Normal, data: new Uint8Array([1, 2, 3, 4]) }],
      }),
    );

  test('an entry whose data was corrupted in flight', () => {
    const p = entryMessage();
    const bytes = wire.Message.encode(p).finish();
    // Flip a bit of the entry's data inside the serialized message.
    const at = Buffer.from(bytes).indexOf(Buffer.from([1, 2, 3, 4]));
    assert.ok(at > 0);
    bytes[at + 2]! ^= 0x10;
    const corrupted = wire.Message.decode(bytes);
    assert.throws(
      () => decodeMessage(corrupted),
      (err: unknown) =>
        err instanceof DecodeError && err.problem === 'checksum_mismatch' && err.code === 'DATA_LOSS',
    );
  });

  test('an entry whose checksum field is wrong', () => {
    const p = entryMessage();
    p.entries[0]!.checksum ^= 1;
    assert.throws(() => decodeMessage(p), /checksum/);
  });

  test('a uint64 past 2^53 (the core could not hold it exactly)', () => {
    const p = entryMessage();
    p.commit = '9007199254740993';
    assert.throws(
      () => decodeMessage(p),
      (err: unknown) => err instanceof DecodeError && err.problem === 'malformed',
    );
  });

  test('local-only message types are never encoded, and dropped if received', () => {
    for (const type of [
      MessageType.Hup,
      MessageType.Beat,
      MessageType.Unreachable,
      MessageType.SnapStatus,
      MessageType.CheckQuorum,
    ]) {
      assert.throws(() => encodeMessage(makeMessage({ type, from: 'a', to: 'b' })), /local, never sent/);
      const p = encodeMessage(makeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b' }));
      p.type = type as number as wire.MessageType;
      assert.throws(
        () => decodeMessage(p),
        (err: unknown) => err instanceof DecodeError && err.problem === 'not_a_network_message',
      );
    }
    const unknown = encodeMessage(makeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b' }));
    unknown.type = 99 as wire.MessageType;
    assert.throws(() => decodeMessage(unknown), DecodeError);
  });

  test('a Snap without metadata, or another type with it', () => {
    assert.throws(
      () => encodeMessage(makeMessage({ type: MessageType.Snap, from: 'a', to: 'b' })),
      /needs a snapshot/,
    );
    const p = encodeMessage(makeMessage({ type: MessageType.App, from: 'a', to: 'b' }));
    p.snapshotMeta = { index: '1', term: '1', confState: undefined };
    assert.throws(() => decodeMessage(p), /cannot carry snapshot metadata/);
  });
});
