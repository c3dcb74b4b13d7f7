import type { Server } from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/index.js';

/** What the transport delivers to the node. */
export interface TransportHandlers {
  /** Messages from a peer, in the order that peer sent them (already checked: our cluster, addressed to us). */
  onMessages(msgs: Message[]): void;
  /** A complete snapshot from the leader: a Snap message whose snapshot.data holds every chunk, in order. */
  onSnapshot(m: Message): void;
  /** A peer could not be reached (the connection failed or a send was lost). */
  onUnreachable(peer: NodeId): void;
}

/**
 * Raft traffic between nodes over gRPC (dkv.raft.v1.RaftTransport): one
 * long-lived channel per peer, message batches in order, snapshots streamed
 * in chunks below gRPC's 4 MiB limit, reconnect with backoff.
 */
export interface PeerTransport {
  /** Add the RaftTransport service to the node's gRPC server (the one on DKV_RPC_PORT). */
  register(server: Server): void;
  /** Know (or update) how to reach a peer. */
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  /** Send messages without waiting; batched per peer and sent in order. Snap messages are not sent here. */
  send(msgs: Message[]): void;
  /** Stream a snapshot: `m` is the Snap message (metadata only), the data comes from `chunks`. Resolves once the peer acknowledged it all. */
  sendSnapshot(m: Message, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Close every channel and stop accepting peer calls. */
  close(): Promise<void>;
}
