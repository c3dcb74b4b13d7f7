/**
 * PeerTransport over gRPC: the receiving service (peer-server.ts), one
 * PeerLink per peer for messages (peer-link.ts) and InstallSnapshot streams
 * for snapshots (snapshot-sender.ts), put together behind the interface the
 * node uses.
 */
import type { Server } from '@grpc/grpc-js';
import { unavailable } from '../errors.js';
import { type MessageBatch, RaftTransportService } from '../gen/dkv/raft/v1/raft.js';
import { type Message, MessageType, type NodeId } from '../raft/index.js';
import {
  encodeMessage,
  encodeMessageSharingEntries,
  estimateMessageBytes,
  type WireEntries,
} from './codec.js';
import { defaultTransportLog, type TransportLog } from './log.js';
import { PeerLink } from './peer-link.js';
import { createPeerServer } from './peer-server.js';
import { sendSnapshotChunks } from './snapshot-sender.js';
import type { PeerTransport, TransportHandlers } from './types.js';

/** How to build a gRPC peer transport; only the first three are required. */
export interface GrpcPeerTransportOptions {
  /** This node's id (the `to` that incoming traffic must carry). */
  nodeId: string;
  /** The cluster's id; traffic stamped with another is refused. */
  clusterId: string;
  handlers: TransportHandlers;
  log?: TransportLog;
  /** Largest snapshot chunk payload sent (default 1 MiB). */
  chunkBytes?: number;
  /** Messages one peer may hold unsent before the oldest are dropped (default 4096). */
  maxQueuedMessages?: number;
  /** Split a send() group into several batches past this estimated size (default 3 MiB, below gRPC's default 4 MiB limit). */
  maxBatchBytes?: number;
  /** First reconnect wait (default 50 ms); doubles per failure. */
  initialBackoffMs?: number;
  /** Ceiling of the reconnect wait (default 2 s). */
  maxBackoffMs?: number;
  /** A new Send stream that reaches no connection within this time counts as failed (default 5 s). */
  connectTimeoutMs?: number;
  /** An InstallSnapshot that makes no progress for this long fails (default 60 s). */
  snapshotTimeoutMs?: number;
  /** Largest snapshot this node accepts (default 1 GiB). */
  maxSnapshotBytes?: number;
}

const MiB = 1024 * 1024;

/** Create the gRPC transport for one node; call register() on its server and setPeer() for each member. */
export function createPeerTransport(opts: GrpcPeerTransportOptions): PeerTransport {
  const { nodeId, clusterId, handlers } = opts;
  const log = opts.log ?? defaultTransportLog;
  const chunkBytes = opts.chunkBytes ?? MiB;
  const maxBatchBytes = opts.maxBatchBytes ?? 3 * MiB;
  const snapshotTimeoutMs = opts.snapshotTimeoutMs ?? 60_000;
  if (!(chunkBytes > 0) || !(maxBatchBytes > 0))
    throw new Error('transport: chunkBytes and maxBatchBytes must be > 0');

  const peers = new Map<NodeId, PeerLink>();
  const server = createPeerServer({
    nodeId,
    clusterId,
    handlers,
    log,
    maxSnapshotBytes: opts.maxSnapshotBytes ?? 1024 * MiB,
  });
  let closed = false;

  // onUnreachable is deferred to a microtask and coalesced per peer: the node
  // hears about each peer once per burst, and never re-entrantly from inside
  // its own send() call.
  const unreachable = new Set<NodeId>();
  const reportUnreachable = (peer: NodeId): void => {
    if (closed) return;
    if (unreachable.size === 0) {
      queueMicrotask(() => {
        const peersNow = [...unreachable];
        unreachable.clear();
        for (const p of peersNow) handlers.onUnreachable(p);
      });
    }
    unreachable.add(peer);
  };

  /** Split one peer's messages into batches below maxBatchBytes, keeping their order. */
  const toBatches = (
    to: NodeId,
    msgs: Message[],
    done: WireEntries,
  ): { batch: MessageBatch; bytes: number }[] => {
    const batches: { batch: MessageBatch; bytes: number }[] = [];
    let current: MessageBatch = { clusterId, from: nodeId, to, messages: [] };
    let bytes = 0;
    for (const m of msgs) {
      const size = estimateMessageBytes(m);
      if (current.messages.length > 0 && bytes + size > maxBatchBytes) {
        batches.push({ batch: current, bytes });
        current = { clusterId, from: nodeId, to, messages: [] };
        bytes = 0;
      }
      current.messages.push(encodeMessageSharingEntries(m, done));
      bytes += size;
    }
    if (current.messages.length > 0) batches.push({ batch: current, bytes });
    return batches;
  };

  const removeLink = (id: NodeId): Promise<void> => {
    const link = peers.get(id);
    if (link === undefined) return Promise.resolve();
    peers.delete(id);
    return link.close();
  };

  return {
    register(grpcServer: Server): void {
      grpcServer.addService(RaftTransportService, server.implementation);
    },

    setPeer(id: NodeId, address: string): void {
      if (closed) return;
      if (id === nodeId) throw new Error(`transport: setPeer for this node's own id '${id}'`);
      const existing = peers.get(id);
      if (existing?.address === address) return;
      if (existing) void removeLink(id);
      peers.set(
        id,
        new PeerLink({
          peerId: id,
          address,
          initialBackoffMs: opts.initialBackoffMs ?? 50,
          maxBackoffMs: opts.maxBackoffMs ?? 2_000,
          connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
          maxQueuedMessages: opts.maxQueuedMessages ?? 4096,
          maxBatchBytes,
          log,
          reportUnreachable,
        }),
      );
    },

    removePeer(id: NodeId): void {
      void removeLink(id);
    },

    send(msgs: Message[]): void {
      // Programmer errors throw before anything is queued; operating errors
      // (an unknown or unreachable peer) never do.
      const byPeer = new Map<NodeId, Message[]>();
      for (const m of msgs) {
        if (m.type === MessageType.Snap) throw new Error('transport: Snap messages go through sendSnapshot');
        // A forwarded TransferLeader names the transferee in `from` (as in etcd-io/raft); others are ours.
        if (m.from !== nodeId && m.type !== MessageType.TransferLeader) {
          throw new Error(`transport: message from '${m.from}' handed to node '${nodeId}'`);
        }
        if (m.to === nodeId || m.to === '') throw new Error(`transport: message to '${m.to}' cannot be sent`);
        let group = byPeer.get(m.to);
        if (group === undefined) {
          group = [];
          byPeer.set(m.to, group);
        }
        group.push(m);
      }
      const done: WireEntries = new Map();
      const batches = [...byPeer].map(([to, group]) => ({ to, batches: toBatches(to, group, done) }));
      if (closed) return;
      for (const { to, batches: peerBatches } of batches) {
        const link = peers.get(to);
        if (link === undefined) {
          log('debug', 'dropped messages to an unknown peer', { peer: to });
          reportUnreachable(to);
          continue;
        }
        for (const b of peerBatches) link.send(b.batch, b.bytes);
      }
    },

    async sendSnapshot(m: Message, chunks: AsyncIterable<Uint8Array>): Promise<void> {
      if (m.type !== MessageType.Snap || m.snapshot === null) {
        throw new Error('transport: sendSnapshot needs a Snap message with its snapshot metadata');
      }
      if (m.from !== nodeId)
        throw new Error(`transport: snapshot from '${m.from}' handed to node '${nodeId}'`);
      const header = encodeMessage(m);
      if (closed) throw unavailable('transport is closed');
      const link = peers.get(m.to);
      if (link === undefined) throw unavailable(`no address known for peer '${m.to}'`);
      let call: { cancel(): void } | null = null;
      try {
        const bytes = await sendSnapshotChunks({
          client: link.client,
          clusterId,
          from: nodeId,
          to: m.to,
          header,
          chunks,
          chunkBytes,
          timeoutMs: snapshotTimeoutMs,
          onCall: (c) => {
            call = c;
            link.snapshotCalls.add(c);
          },
        });
        log('info', 'sent a snapshot', { peer: m.to, index: m.snapshot.meta.index, bytes });
      } catch (err) {
        log('warn', `sending a snapshot failed: ${(err as Error).message}`, { peer: m.to });
        throw err;
      } finally {
        if (call) link.snapshotCalls.delete(call);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      server.close();
      await Promise.all([...peers.keys()].map(removeLink));
    },
  };
}
