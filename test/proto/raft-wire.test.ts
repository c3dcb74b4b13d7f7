/**
 * The peer protocol (proto/dkv/raft/v1): its messages survive the wire intact,
 * and they still mirror the consensus core's types in src/raft/types.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  ConfChange,
  ConfChangeType,
  EntryType,
  Message,
  MessageBatch,
  MessageType,
  RaftTransportService,
  SnapshotChunk,
} from '../../src/gen/dkv/raft/v1/raft.js';
import * as core from '../../src/raft/types.js';

/** `AppResp` → `APP_RESP`: a core enum member's name in proto style. */
function screamingSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The numeric members of a TypeScript enum, as `name → value`. */
function enumMembers(e: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(e).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

/** Asserts that a generated proto enum has the core enum's members, prefixed, with the same numbers. */
function assertMirrors(
  coreEnum: Record<string, string | number>,
  protoEnum: Record<string, string | number>,
  prefix: string,
): void {
  const expected = Object.fromEntries(
    Object.entries(enumMembers(coreEnum)).map(([name, value]) => [`${prefix}${screamingSnake(name)}`, value]),
  );
  const actual = enumMembers(protoEnum);
  delete actual.UNRECOGNIZED;
  assert.deepEqual(actual, expected);
}

test('RaftTransport has client-streaming Send and InstallSnapshot', () => {
  assert.equal(RaftTransportService.send.path, '/dkv.raft.v1.RaftTransport/Send');
  assert.equal(RaftTransportService.send.requestStream, true);
  assert.equal(RaftTransportService.send.responseStream, false);
  assert.equal(RaftTransportService.installSnapshot.path, '/dkv.raft.v1.RaftTransport/InstallSnapshot');
  assert.equal(RaftTransportService.installSnapshot.requestStream, true);
  assert.equal(RaftTransportService.installSnapshot.responseStream, false);
});

test('the wire enums number their members as the core does', () => {
  assertMirrors(core.MessageType, MessageType, 'MESSAGE_TYPE_');
  assertMirrors(core.EntryType, EntryType, 'ENTRY_TYPE_');
  assertMirrors(core.ConfChangeType, ConfChangeType, 'CONF_CHANGE_TYPE_');
  assert.equal(MessageType.MESSAGE_TYPE_READ_INDEX_RESP, 18);
});

test('the wire Message has the core Message fields, with the snapshot as metadata only', () => {
  const coreFields = Object.keys(core.makeMessage({ type: core.MessageType.App }))
    .map((f) => (f === 'snapshot' ? 'snapshotMeta' : f))
    .sort();
  assert.deepEqual(Object.keys(Message.create()).sort(), coreFields);
});

test('the proto marks exactly the core local message types as never sent', () => {
  const text = readFileSync(new URL('../../proto/dkv/raft/v1/raft.proto', import.meta.url), 'utf8');
  const localInProto = [
    ...text.matchAll(/\/\/ Local:[^\n]*\n(?:\s*\/\/[^\n]*\n)*\s*MESSAGE_TYPE_(\w+) = (\d+);/g),
  ]
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b);
  const localInCore = Object.values(enumMembers(core.MessageType))
    .filter((t) => core.isLocalMessage(t))
    .sort((a, b) => a - b);
  assert.deepEqual(localInProto, localInCore);
});

test('a batch of AppendEntries survives encode and decode', () => {
  const big = '9007199254740993'; // 2^53 + 1: not representable as a JS number
  const batch = MessageBatch.fromPartial({
    clusterId: 'c1',
    from: 'a',
    to: 'b',
    messages: [
      {
        type: MessageType.MESSAGE_TYPE_APP,
        from: 'a',
        to: 'b',
        term: '7',
        logTerm: '6',
        index: big,
        commit: '41',
        entries: [
          {
            term: '7',
            index: '42',
            type: EntryType.ENTRY_TYPE_NORMAL,
            data: Buffer.from('put k v'),
            checksum: 0xe3069283,
          },
          {
            term: '7',
            index: '43',
            type: EntryType.ENTRY_TYPE_CONF_CHANGE,
            data: Buffer.from([1, 2, 3]),
            checksum: 1,
          },
          { term: '7', index: '44', type: EntryType.ENTRY_TYPE_NORMAL, data: Buffer.alloc(0), checksum: 0 },
        ],
      },
      {
        type: MessageType.MESSAGE_TYPE_APP_RESP,
        from: 'b',
        to: 'a',
        term: '7',
        index: '40',
        reject: true,
        rejectHint: '38',
        logTermHint: '5',
        context: Buffer.from('ctx'),
      },
    ],
  });
  const decoded = MessageBatch.decode(MessageBatch.encode(batch).finish());
  assert.deepEqual(decoded, batch);
  assert.equal(decoded.messages[0]!.index, big);
  assert.equal(decoded.messages[0]!.entries[0]!.checksum, 0xe3069283);
  assert.equal(decoded.messages[0]!.snapshotMeta, undefined);
});

test('a snapshot chunk carries the Snap header with its metadata', () => {
  const chunk = SnapshotChunk.fromPartial({
    clusterId: 'c1',
    from: 'a',
    to: 'c',
    header: {
      type: MessageType.MESSAGE_TYPE_SNAP,
      from: 'a',
      to: 'c',
      term: '9',
      snapshotMeta: { index: '1000', term: '8', confState: { voters: ['a', 'b', 'c'], learners: ['d'] } },
    },
    offset: '0',
    data: Buffer.alloc(1024, 7),
    last: false,
  });
  const decoded = SnapshotChunk.decode(SnapshotChunk.encode(chunk).finish());
  assert.deepEqual(decoded, chunk);
  assert.deepEqual(decoded.header?.snapshotMeta?.confState?.voters, ['a', 'b', 'c']);
});

test('a ConfChange round-trips as the data of a conf-change entry', () => {
  const change = {
    type: ConfChangeType.CONF_CHANGE_TYPE_ADD_LEARNER,
    nodeId: 'd',
    context: Buffer.from('127.0.0.1:6060'),
  };
  assert.deepEqual(ConfChange.decode(ConfChange.encode(change).finish()), change);
});
