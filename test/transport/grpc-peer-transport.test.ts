/**
 * The gRPC peer transport between real servers on loopback: order and
 * content of messages, batching, refusal of traffic that is not ours,
 * snapshots in bounded chunks, and recovery when a peer comes back.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as wire from '../../src/gen/dkv/raft/v1/raft.js';
import { EntryType, type Message, MessageType, makeMessage, Prng } from '../../src/raft/index.js';
import { encodeMessage } from '../../src/transport/codec.js';
import { PEER_CHANNEL_OPTIONS } from '../../src/transport/index.js';
import {
  appMessage,
  NETWORK_TYPES,
  randomBytes,
  randomMessage,
  startNode,
  startServer,
  stopServer,
  type TestNode,
  waitFor,
} from './helpers.js';

const started: TestNode[] = [];
const extraServers: grpc.Server[] = [];
after(async () => {
  await Promise.all(started.map((n) => n.stop()));
  extraServers.forEach(stopServer);
});

async function node(id: string, extra: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, extra);
  started.push(n);
  return n;
}

/** Two nodes of one cluster that know each other. */
async function pair(extra: Parameters<typeof startNode>[1] = {}): Promise<[TestNode, TestNode]> {
  const a = await node('a', extra);
  const b = await node('b', extra);
  a.transport.setPeer('b', b.address);
  b.transport.setPeer('a', a.address);
  return [a, b];
}

const SENDABLE = NETWORK_TYPES.filter((t) => t !== MessageType.Snap);

describe('messages', () => {
  test('1000 messages in 50 send() calls arrive in order, intact, one onMessages per send()', async () => {
    const [a, b] = await pair();
    const rng = new Prng(42);
    const sent: Message[][] = [];
    for (let i = 0; i < 50; i++) {
      const group = Array.from({ length: 20 }, () => randomMessage(rng, rng.pick(SENDABLE), 'a', 'b'));
      sent.push(group);
      a.transport.send(group);
    }
    await waitFor(() => b.deliveries.flat().length >= 1000, 5_000, '1000 messages at b');
    assert.deepEqual(b.deliveries.flat(), sent.flat());
    assert.deepEqual(a.unreachable, []);
    // Batching: the messages of one send() call are never split across onMessages calls (sends
    // that queue up behind a busy stream may be merged into one batch, still in order).
    const deliveryOf = b.deliveries.flatMap((d, i) => d.map(() => i));
    let at = 0;
    for (const group of sent) {
      const where = new Set(deliveryOf.slice(at, at + group.length));
      assert.equal(where.size, 1, `send() #${at / 20} arrived in ${where.size} onMessages calls`);
      at += group.length;
    }
    assert.ok(
      b.deliveries.length < 50,
      `${b.deliveries.length} onMessages calls for 50 sends: queued sends merged`,
    );

    // And the other way round, on b's own stream.
    b.transport.send([appMessage('b', 'a', 1, new Uint8Array([9]))]);
    await waitFor(() => a.deliveries.length === 1, 2_000, 'the reply at a');
  });

  test('one send() to several peers: each peer gets its own messages as one batch, in order', async () => {
    const a = await node('a');
    const b = await node('b');
    const c = await node('c');
    a.transport.setPeer('b', b.address);
    a.transport.setPeer('c', c.address);
    const msgs = [1, 2, 3, 4, 5, 6].map((i) => appMessage('a', i % 2 ? 'b' : 'c', i, new Uint8Array([i])));
    a.transport.send(msgs);
    await waitFor(() => b.deliveries.length === 1 && c.deliveries.length === 1, 2_000, 'both batches');
    assert.deepEqual(b.deliveries, [msgs.filter((m) => m.to === 'b')]);
    assert.deepEqual(c.deliveries, [msgs.filter((m) => m.to === 'c')]);
  });

  test('a send() bigger than maxBatchBytes is split into several batches, still in order', async () => {
    const [a, b] = await pair({ maxBatchBytes: 64 * 1024 });
    const payload = randomBytes(new Prng(1), 10_000);
    const msgs = Array.from({ length: 30 }, (_, i) => appMessage('a', 'b', i, payload));
    a.transport.send(msgs);
    await waitFor(() => b.deliveries.flat().length === 30, 2_000, '30 messages');
    assert.ok(b.deliveries.length > 1, 'split into several batches');
    assert.deepEqual(b.deliveries.flat(), msgs);
  });

  test('messages to an unknown peer are dropped with onUnreachable, without throwing', async () => {
    const a = await node('a');
    a.transport.send([appMessage('a', 'zz', 1, new Uint8Array())]);
    await waitFor(() => a.unreachable.includes('zz'), 1_000, 'onUnreachable(zz)');
  });

  test('programmer errors throw: local message types, Snap through send(), a wrong sender', async () => {
    const [a] = await pair();
    assert.throws(
      () => a.transport.send([makeMessage({ type: MessageType.Hup, from: 'a', to: 'b' })]),
      /local/,
    );
    const snap = makeMessage({
      type: MessageType.Snap,
      from: 'a',
      to: 'b',
      snapshot: {
        meta: { index: 1, term: 1, confState: { voters: [], learners: [] } },
        data: new Uint8Array(),
      },
    });
    assert.throws(() => a.transport.send([snap]), /sendSnapshot/);
    assert.throws(() => a.transport.send([appMessage('x', 'b', 1, new Uint8Array())]), /from 'x'/);
  });
});

describe('refusing traffic that is not ours', () => {
  test('a batch from another cluster is refused with FAILED_PRECONDITION and never delivered', async () => {
    const a = await node('a', { clusterId: 'cluster-one' });
    const b = await node('b', { clusterId: 'cluster-two' });
    a.transport.setPeer('b', b.address);
    a.transport.send([appMessage('a', 'b', 1, new Uint8Array([1]))]);
    await waitFor(() => a.unreachable.includes('b'), 3_000, 'onUnreachable(b) at the sender');
    assert.deepEqual(b.deliveries, []);
    const failure = a.logs.find((l) => l.level === 'warn' && l.msg.includes('FAILED_PRECONDITION'));
    assert.ok(failure, `sender logged the refusal: ${JSON.stringify(a.logs)}`);
    assert.match(failure.msg, /cluster 'cluster-one'.*cluster 'cluster-two'/);
    assert.ok(b.logs.some((l) => l.level === 'warn' && l.msg.startsWith('refused a Send stream')));
  });

  test('a batch addressed to another node is refused and never delivered', async () => {
    const a = await node('a');
    const b = await node('b');
    // a believes node c lives at b's address.
    a.transport.setPeer('c', b.address);
    a.transport.send([appMessage('a', 'c', 1, new Uint8Array([1]))]);
    await waitFor(() => a.unreachable.includes('c'), 3_000, 'onUnreachable(c) at the sender');
    assert.deepEqual(b.deliveries, []);
    assert.ok(
      a.logs.some((l) => l.level === 'warn' && /addressed to node 'c' but reached node 'b'/.test(l.msg)),
    );
  });

  test('a corrupt entry drops its batch (logged); local-only messages are dropped, the rest delivered', async () => {
    const b = await node('b');
    const client = new wire.RaftTransportClient(
      b.address,
      grpc.credentials.createInsecure(),
      PEER_CHANNEL_OPTIONS,
    );
    const good = appMessage('a', 'b', 7, new Uint8Array([1, 2, 3]));
    const corrupt = encodeMessage(appMessage('a', 'b', 5, new Uint8Array([4, 5, 6])));
    corrupt.entries[0]!.data = Buffer.from([4, 5, 7]);
    const local = encodeMessage(makeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b' }));
    local.type = wire.MessageType.MESSAGE_TYPE_CHECK_QUORUM;
    const batch = (messages: wire.Message[]): wire.MessageBatch => ({
      clusterId: 'test-cluster',
      from: 'a',
      to: 'b',
      messages,
    });
    const ended = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.send((err) => resolve(err));
      call.write(batch([encodeMessage(good), corrupt]));
      call.write(batch([local, encodeMessage(good)]));
      call.end();
    });
    assert.equal(await ended, null);
    client.close();
    assert.deepEqual(b.deliveries, [[good]]);
    assert.ok(
      b.logs.some(
        (l) => l.level === 'error' && /dropped a batch of 2 messages: entry 6: checksum/.test(l.msg),
      ),
    );
    assert.ok(
      b.logs.some((l) => l.level === 'warn' && /CheckQuorum .* is not a network message/.test(l.msg)),
    );
  });
});

/** A snapshot source that yields `data` in irregular pieces (some bigger than a chunk). */
async function* pieces(data: Uint8Array, rng: Prng): AsyncIterable<Uint8Array> {
  let at = 0;
  while (at < data.length) {
    const n = Math.min(data.length - at, 1 + rng.int(700 * 1024));
    yield data.subarray(at, at + n);
    at += n;
  }
}

function snapMessage(from: string, to: string): Message {
  return makeMessage({
    type: MessageType.Snap,
    from,
    to,
    term: 4,
    snapshot: {
      meta: { index: 1234, term: 3, confState: { voters: ['a', 'b', 'c'], learners: ['d'] } },
      data: new Uint8Array(),
    },
  });
}

describe('snapshots', () => {
  test('5 MiB in chunks of at most 256 KiB arrives intact; sendSnapshot resolves after delivery', async () => {
    const chunkBytes = 256 * 1024;
    const a = await node('a', { chunkBytes });
    const wireChunks: wire.SnapshotChunk[] = [];
    // b's transport, with a tap on its InstallSnapshot stream to see each chunk as it crossed the wire.
    const b = await node('b');
    const tapped = await startServer((server) => {
      b.transport.register({
        addService: (service: grpc.ServiceDefinition, impl: wire.RaftTransportServer) =>
          server.addService(service, {
            ...impl,
            installSnapshot: (
              call: grpc.ServerReadableStream<wire.SnapshotChunk, wire.SnapshotAck>,
              cb: grpc.sendUnaryData<wire.SnapshotAck>,
            ) => {
              call.on('data', (c: wire.SnapshotChunk) => wireChunks.push(c));
              impl.installSnapshot(call, cb);
            },
          }),
      } as unknown as grpc.Server);
    });
    extraServers.push(tapped.server);
    a.transport.setPeer('b', `127.0.0.1:${tapped.port}`);

    const rng = new Prng(5);
    const data = randomBytes(rng, 5 * 1024 * 1024);
    const m = snapMessage('a', 'b');
    await a.transport.sendSnapshot(m, pieces(data, rng));

    assert.equal(b.snapshots.length, 1, 'delivered before sendSnapshot resolved');
    const got = b.snapshots[0]!;
    assert.deepEqual({ ...got, snapshot: null }, { ...m, snapshot: null });
    assert.deepEqual(got.snapshot!.meta, m.snapshot!.meta);
    assert.ok(Buffer.from(got.snapshot!.data).equals(Buffer.from(data)), 'snapshot bytes identical');

    assert.ok(wireChunks.length >= 20, `${wireChunks.length} chunks`);
    let offset = 0;
    wireChunks.forEach((c, i) => {
      assert.ok(c.data.length <= chunkBytes, `chunk ${i} carries ${c.data.length} bytes`);
      assert.ok(wire.SnapshotChunk.encode(c).finish().length <= chunkBytes + 1024, `chunk ${i} on the wire`);
      assert.equal(c.header !== undefined, i === 0, `header only in the first chunk (${i})`);
      assert.equal(c.last, i === wireChunks.length - 1, `last only on the final chunk (${i})`);
      assert.equal(Number(c.offset), offset);
      offset += c.data.length;
    });
    assert.equal(offset, data.length);
  });

  test('an empty snapshot is one chunk with the header and last set', async () => {
    const [a, b] = await pair();
    await a.transport.sendSnapshot(snapMessage('a', 'b'), (async function* () {})());
    assert.equal(b.snapshots.length, 1);
    assert.equal(b.snapshots[0]!.snapshot!.data.length, 0);
  });

  test('a snapshot for another cluster is refused: sendSnapshot rejects, nothing delivered', async () => {
    const a = await node('a', { clusterId: 'one' });
    const b = await node('b', { clusterId: 'two' });
    a.transport.setPeer('b', b.address);
    const data = randomBytes(new Prng(2), 100_000);
    await assert.rejects(
      a.transport.sendSnapshot(snapMessage('a', 'b'), pieces(data, new Prng(3))),
      /cluster 'one'.*cluster 'two'/,
    );
    assert.deepEqual(b.snapshots, []);
  });

  test('a snapshot bigger than the receiver accepts is refused with RESOURCE_EXHAUSTED', async () => {
    const a = await node('a', { chunkBytes: 1024 });
    const b = await node('b', { maxSnapshotBytes: 10_000 });
    a.transport.setPeer('b', b.address);
    await assert.rejects(
      a.transport.sendSnapshot(snapMessage('a', 'b'), pieces(new Uint8Array(20_000), new Prng(4))),
      /limit of 10000 bytes/,
    );
    assert.deepEqual(b.snapshots, []);
  });

  test('no ack within snapshotTimeoutMs rejects with DEADLINE_EXCEEDED', async () => {
    const a = await node('a', { snapshotTimeoutMs: 200 });
    const silent = await startServer((server) =>
      server.addService(wire.RaftTransportService, {
        send: (_call, cb) => cb(null, {}),
        installSnapshot: (call) => call.resume(), // reads everything, never answers
      } satisfies wire.RaftTransportServer),
    );
    extraServers.push(silent.server);
    a.transport.setPeer('b', `127.0.0.1:${silent.port}`);
    await assert.rejects(
      a.transport.sendSnapshot(snapMessage('a', 'b'), pieces(new Uint8Array(1000), new Prng(1))),
      (err: Error & { code?: string }) =>
        err.code === 'DEADLINE_EXCEEDED' && /no progress for 200 ms/.test(err.message),
    );
  });
});

describe('a peer that is down, then up', () => {
  test('sends to a down peer report onUnreachable and never block; messages flow once it is back', async () => {
    // Reserve a port, then free it: nothing listens there until b starts.
    const probe = await startServer(() => {});
    const port = probe.port;
    stopServer(probe.server);

    const a = await node('a');
    a.transport.setPeer('b', `127.0.0.1:${port}`);
    const payload = new Uint8Array([1, 2, 3]);
    let index = 0;
    const sendOne = (): void => {
      const t0 = performance.now();
      a.transport.send([appMessage('a', 'b', index++, payload)]);
      assert.ok(performance.now() - t0 < 50, 'send() returns at once');
    };
    sendOne();
    await waitFor(() => a.unreachable.includes('b'), 3_000, 'onUnreachable(b)');
    // While down (and backing off), sends are dropped and reported, never queued forever.
    for (let i = 0; i < 20; i++) sendOne();
    await new Promise((resolve) => setTimeout(resolve, 100));
    sendOne();

    const b = await node('b', { port });
    b.transport.setPeer('a', a.address);
    const upAt = performance.now();
    await waitFor(
      () => {
        sendOne();
        return b.deliveries.length > 0;
      },
      5_000,
      'messages to flow to b',
    );
    const recoveredMs = performance.now() - upAt;
    assert.ok(recoveredMs < 4_000, `recovered in ${Math.round(recoveredMs)} ms`);

    // Once reconnected, a burst arrives complete and in order.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = b.deliveries.flat().length;
    const burst = Array.from({ length: 10 }, (_, i) => appMessage('a', 'b', 10_000 + i, payload));
    for (const m of burst) a.transport.send([m]);
    await waitFor(() => b.deliveries.flat().length >= before + 10, 2_000, 'the burst');
    assert.deepEqual(b.deliveries.flat().slice(-10), burst);
    const indexes = b.deliveries.flat().map((m) => m.index);
    assert.deepEqual(
      indexes,
      [...indexes].sort((x, y) => x - y),
      'never reordered',
    );
    assert.ok(a.logs.some((l) => l.level === 'info' && l.msg === 'peer reachable again'));
  });

  test('a peer that stops reading: the queue stays bounded and drops are reported', async () => {
    const a = await node('a', { maxQueuedMessages: 100, connectTimeoutMs: 60_000 });
    // A server that accepts the stream but never reads from it: HTTP/2 flow control fills up.
    const stalled = await startServer((server) =>
      server.addService(wire.RaftTransportService, {
        send: (call) => call.pause(),
        installSnapshot: (_call, cb) => cb(null, { receivedBytes: '0' }),
      } satisfies wire.RaftTransportServer),
    );
    extraServers.push(stalled.server);
    a.transport.setPeer('b', `127.0.0.1:${stalled.port}`);
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i < 400; i++) a.transport.send([appMessage('a', 'b', i, big)]);
    await waitFor(() => a.unreachable.includes('b'), 3_000, 'onUnreachable(b) for dropped messages');
    assert.ok(a.logs.some((l) => l.msg.includes('the peer is not keeping up')));
  });
});

test('entry types, contexts and forwarded TransferLeader survive the real wire', async () => {
  const [a, b] = await pair();
  const msgs: Message[] = [
    makeMessage({
      type: MessageType.App,
      from: 'a',
      to: 'b',
      entries: [{ term: 2, index: 3, type: EntryType.ConfChange, data: new Uint8Array([0, 255, 0]) }],
    }),
    makeMessage({ type: MessageType.ReadIndex, from: 'a', to: 'b', context: new Uint8Array([7, 7]) }),
    // A follower forwards a TransferLeader with the transferee, not itself, in `from`.
    makeMessage({ type: MessageType.TransferLeader, from: 'c', to: 'b' }),
  ];
  a.transport.send(msgs);
  await waitFor(() => b.deliveries.length === 1, 2_000, 'delivery');
  assert.deepEqual(b.deliveries[0], msgs);
});
