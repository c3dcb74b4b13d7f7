/**
 * The receiving half of the transport: the RaftTransport service a node
 * registers on its gRPC server. It admits only traffic for our cluster and
 * our node id, decodes and checks every batch, and hands messages to the
 * node in the order each peer sent them.
 */
import { type StatusObject, status } from '@grpc/grpc-js';
import * as wire from '../gen/dkv/raft/v1/raft.js';
import { type Message, MessageType } from '../raft/index.js';
import { DecodeError, decodeMessage } from './codec.js';
import type { TransportLog } from './log.js';
import { SnapshotAssembler, SnapshotStreamError } from './snapshot-assembler.js';
import type { TransportHandlers } from './types.js';

/** What the receiving half needs to know. */
export interface PeerServerOptions {
  nodeId: string;
  clusterId: string;
  handlers: TransportHandlers;
  log: TransportLog;
  /** Largest snapshot accepted; a bigger one fails with RESOURCE_EXHAUSTED. */
  maxSnapshotBytes: number;
}

/** The RaftTransport service implementation, plus a way to end every call it is serving. */
export interface PeerServer {
  /** Pass to `server.addService(RaftTransportService, implementation)`. */
  implementation: wire.RaftTransportServer;
  /** Fail every open call with UNAVAILABLE and refuse new ones (the node is shutting down). */
  close(): void;
}

type Finish = (err: Partial<StatusObject> | null) => void;

/** Build the RaftTransport service for one node. */
export function createPeerServer(opts: PeerServerOptions): PeerServer {
  const { nodeId, clusterId, handlers, log } = opts;
  const openCalls = new Set<Finish>();
  let closed = false;

  /** Why traffic stamped with these ids must not be delivered here, or null if it may. */
  function refusal(peerClusterId: string, from: string, to: string): string | null {
    if (peerClusterId !== clusterId) {
      return `node '${from}' is in cluster '${peerClusterId}', this node ('${nodeId}') is in cluster '${clusterId}'`;
    }
    if (to !== nodeId)
      return `traffic from '${from}' is addressed to node '${to}' but reached node '${nodeId}'`;
    if (from === '') return 'traffic without a sender id';
    return null;
  }

  /** Why a batch must not be delivered here (the batch or one of its messages is not ours), or null. */
  function batchRefusal(batch: wire.MessageBatch): string | null {
    const why = refusal(batch.clusterId, batch.from, batch.to);
    if (why !== null) return why;
    for (const m of batch.messages) {
      // A forwarded TransferLeader keeps the transferee in `from`; every other message is from the sender.
      const fromOk = m.from === batch.from || m.type === wire.MessageType.MESSAGE_TYPE_TRANSFER_LEADER;
      if (!fromOk || m.to !== batch.to) {
        return `a batch from '${batch.from}' to '${batch.to}' holds a message from '${m.from}' to '${m.to}'`;
      }
    }
    return null;
  }

  /** The batch's messages for the core; local-only types are dropped, a bad entry drops the batch. */
  function decodeBatch(batch: wire.MessageBatch): Message[] {
    const out: Message[] = [];
    for (const p of batch.messages) {
      try {
        const m = decodeMessage(p);
        if (m.type === MessageType.Snap) {
          // A Snap is only meaningful with its data, which travels on InstallSnapshot.
          log('warn', 'dropped a Snap message received outside InstallSnapshot', { peer: batch.from });
          continue;
        }
        out.push(m);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        if (err.problem === 'not_a_network_message') {
          log('warn', `dropped a message: ${err.message}`, { peer: batch.from });
          continue;
        }
        // Never deliver part of a batch with a corrupt entry: Raft re-sends what is lost.
        log('error', `dropped a batch of ${batch.messages.length} messages: ${err.message}`, {
          peer: batch.from,
          problem: err.problem,
        });
        return [];
      }
    }
    return out;
  }

  /** Track a call so close() can end it; `finish` answers it exactly once. */
  function track(answer: Finish): { finish: Finish; forget: () => void; isDone: () => boolean } {
    let done = false;
    const finish: Finish = (err) => {
      if (done) return;
      done = true;
      openCalls.delete(finish);
      answer(err);
    };
    openCalls.add(finish);
    const forget = (): void => {
      done = true;
      openCalls.delete(finish);
    };
    return { finish, forget, isDone: () => done };
  }

  const shuttingDown = { code: status.UNAVAILABLE, details: `node '${nodeId}' is shutting down` };

  const implementation: wire.RaftTransportServer = {
    send(call, callback) {
      if (closed) {
        callback(shuttingDown);
        return;
      }
      const { finish, forget, isDone } = track((err) => (err ? callback(err) : callback(null, {})));
      call.on('data', (batch: wire.MessageBatch) => {
        if (isDone()) return;
        const why = batchRefusal(batch);
        if (why !== null) {
          log('warn', `refused a Send stream: ${why}`, { peer: batch.from });
          finish({ code: status.FAILED_PRECONDITION, details: why });
          return;
        }
        const msgs = decodeBatch(batch);
        if (msgs.length > 0) handlers.onMessages(msgs);
      });
      call.on('end', () => finish(null));
      call.on('cancelled', forget);
      call.on('error', forget);
    },

    installSnapshot(call, callback) {
      if (closed) {
        callback(shuttingDown);
        return;
      }
      const { finish, forget, isDone } = track((err) =>
        err ? callback(err) : callback(null, { receivedBytes: String(assembler.receivedBytes) }),
      );
      const assembler = new SnapshotAssembler(opts.maxSnapshotBytes);
      let header: Message | null = null;
      let sawLast = false;
      const fail = (code: status, why: string, peer: string): void => {
        log('warn', `refused an InstallSnapshot stream: ${why}`, { peer });
        finish({ code, details: why });
      };

      call.on('data', (chunk: wire.SnapshotChunk) => {
        if (isDone() || sawLast) return;
        const why = refusal(chunk.clusterId, chunk.from, chunk.to);
        if (why !== null) return fail(status.FAILED_PRECONDITION, why, chunk.from);
        if (header === null) {
          if (chunk.header === undefined) {
            return fail(status.INVALID_ARGUMENT, 'the first snapshot chunk has no Snap header', chunk.from);
          }
          try {
            header = decodeMessage(chunk.header);
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err;
            return fail(status.INVALID_ARGUMENT, `bad snapshot header: ${err.message}`, chunk.from);
          }
          if (header.type !== MessageType.Snap || header.from !== chunk.from || header.to !== chunk.to) {
            return fail(
              status.INVALID_ARGUMENT,
              'the snapshot header is not a Snap message between these nodes',
              chunk.from,
            );
          }
        } else if (chunk.header !== undefined) {
          return fail(
            status.INVALID_ARGUMENT,
            'a snapshot chunk after the first carries a header',
            chunk.from,
          );
        }
        try {
          const offset = Number(chunk.offset);
          assembler.add(Number.isSafeInteger(offset) ? offset : -1, chunk.data);
        } catch (err) {
          if (!(err instanceof SnapshotStreamError)) throw err;
          return fail(err.grpcCode, err.message, chunk.from);
        }
        if (!chunk.last) return;
        sawLast = true;
        const snap = header.snapshot!;
        const m: Message = { ...header, snapshot: { meta: snap.meta, data: assembler.concat() } };
        void deliverSnapshot(m, finish);
      });
      call.on('end', () => {
        if (!sawLast)
          finish({
            code: status.FAILED_PRECONDITION,
            details: 'snapshot stream ended before its last chunk',
          });
      });
      call.on('cancelled', forget);
      call.on('error', forget);
    },
  };

  /** Hand a complete snapshot to the node and acknowledge it once the node is done with it. */
  async function deliverSnapshot(m: Message, finish: Finish): Promise<void> {
    try {
      // onSnapshot is typed void; if the node returns a promise (persisting the
      // snapshot), the ack waits for it, as the protocol promises "durably stored".
      const result: unknown = handlers.onSnapshot(m);
      if (result instanceof Promise) await result;
    } catch (err) {
      log('error', `the node failed to take a snapshot: ${(err as Error).message}`, { peer: m.from });
      finish({ code: status.INTERNAL, details: `node '${nodeId}' could not store the snapshot` });
      return;
    }
    log('info', 'received a snapshot', {
      peer: m.from,
      index: m.snapshot!.meta.index,
      bytes: m.snapshot!.data.length,
    });
    finish(null);
  }

  return {
    implementation,
    close() {
      closed = true;
      for (const finish of [...openCalls]) finish(shuttingDown);
    },
  };
}
