/**
 * The Send stream's serializer writes the same bytes as ts-proto's
 * MessageBatch.encode, whether an entry's encoding is fresh or kept from an
 * earlier batch, and the receiver decodes them to the messages sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as wire from '../../src/gen/dkv/raft/v1/raft.js';
import { EntryType, type Message, MessageType, Prng } from '../../src/raft/index.js';
import { encodeMessageBatch } from '../../src/transport/batch-encoder.js';
import {
  decodeMessage,
  encodeMessage,
  encodeMessageSharingEntries,
  type WireEntries,
} from '../../src/transport/codec.js';
import { NETWORK_TYPES, randomMessage } from './helpers.js';

function batchOf(msgs: Message[], to = 'b'): wire.MessageBatch {
  return { clusterId: 'cluster-1', from: 'a', to, messages: msgs.map(encodeMessage) };
}

function assertSameBytes(batch: wire.MessageBatch): Buffer {
  const ours = encodeMessageBatch(batch);
  const reference = Buffer.from(wire.MessageBatch.encode(batch).finish());
  assert.ok(Buffer.isBuffer(ours));
  assert.deepEqual(ours, reference);
  return ours;
}

describe('encodeMessageBatch', () => {
  test('writes the bytes MessageBatch.encode writes, for every network message type (seeded)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Prng(seed);
      const msgs = Array.from({ length: rng.int(5) }, () =>
        randomMessage(rng, NETWORK_TYPES[rng.int(NETWORK_TYPES.length)]!, 'a', 'b'),
      );
      const bytes = assertSameBytes(batchOf(msgs));
      const decoded = wire.MessageBatch.decode(bytes).messages.map(decodeMessage);
      assert.deepEqual(
        decoded.map((m) => ({ ...m, snapshot: m.snapshot?.meta ?? null })),
        msgs.map((m) => ({ ...m, snapshot: m.snapshot?.meta ?? null })),
        `seed ${seed}`,
      );
    }
  });

  test('an empty batch and empty ids encode as ts-proto does (defaults omitted)', () => {
    assertSameBytes({ clusterId: '', from: '', to: '', messages: [] });
    assertSameBytes(batchOf([]));
  });

  test("entries sent to a second follower reuse the first one's encoding, byte for byte", () => {
    const rng = new Prng(7);
    const app = randomMessage(rng, MessageType.App, 'a', 'b');
    app.entries = [
      { term: 3, index: 10, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
      { term: 3, index: 11, type: EntryType.ConfChange, data: new Uint8Array(0) },
    ];
    const done: WireEntries = new Map();
    const batch = (m: Message): wire.MessageBatch => ({
      clusterId: 'cluster-1',
      from: 'a',
      to: m.to,
      messages: [encodeMessageSharingEntries(m, done)],
    });
    const toB = batch(app);
    const toC = batch({ ...app, to: 'c', commit: 99, entries: [app.entries[1]!] });
    // One wire entry per core entry in a send: the checksum and the conversion were done once.
    assert.equal(toC.messages[0]!.entries[0], toB.messages[0]!.entries[1]);
    const first = assertSameBytes(toB);
    assertSameBytes(toC);
    // And again, now entirely from kept encodings.
    assert.deepEqual(encodeMessageBatch(toB), first);
  });

  test('entries are shared by identity only: an equal-looking entry is encoded on its own', () => {
    const done: WireEntries = new Map();
    const e = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array([9]) };
    const m = { ...randomMessage(new Prng(3), MessageType.App, 'a', 'b'), entries: [e] };
    const w1 = encodeMessageSharingEntries(m, done);
    const w2 = encodeMessageSharingEntries({ ...m, entries: [{ ...e, data: new Uint8Array([8]) }] }, done);
    assert.notEqual(w2.entries[0], w1.entries[0]);
    assert.equal(w2.entries[0]!.data[0], 8);
    assertSameBytes({ clusterId: 'x', from: 'a', to: 'b', messages: [w1, w2] });
  });

  test('the reused writers: outputs stay apart, a failed encoding and a large batch leave no trace', () => {
    const rng = new Prng(11);
    const entries = (n: number, bytes: number) =>
      Array.from({ length: n }, (_, i) => ({
        term: 2,
        index: i + 1,
        type: EntryType.Normal,
        data: new Uint8Array(bytes).fill(i),
      }));
    const app = (n: number, bytes: number) => ({
      ...randomMessage(rng, MessageType.App, 'a', 'b'),
      entries: entries(n, bytes),
    });
    const small = batchOf([app(3, 100)]);
    const first = assertSameBytes(small);
    const kept = Buffer.from(first);
    assertSameBytes(batchOf([app(5, 50)]));
    assert.deepEqual(first, kept, 'a later encoding changed an earlier output');
    // A message the writer refuses halfway through (a uint64 that is not a number).
    const bad = batchOf([app(2, 10)]);
    bad.messages[0] = { ...bad.messages[0]!, commit: 'not a number' };
    assert.throws(() => encodeMessageBatch(bad));
    assertSameBytes(small);
    // Over the writer's keep limit (2 MiB of entries), then small again.
    assertSameBytes(batchOf([app(2, 1 << 20)]));
    assertSameBytes(small);
  });
});
