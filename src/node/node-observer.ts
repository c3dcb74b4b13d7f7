import type { NodeId, Role } from '../raft/index.js';

/**
 * Callbacks the node makes at a few moments of its life (a new role or leader,
 * a client write answered, a snapshot sent or installed), so the daemon can
 * keep metrics without the node knowing about them. Every callback is
 * optional; each call passes numbers or strings the node already holds, so an
 * unset observer costs the hot path nothing but a property check.
 */
export interface NodeObserver {
  /** The node's role or its known leader changed ('' while none is known); `term` is the current term. */
  onSoftState?(role: Role, leader: NodeId, term: number): void;
  /** A client write (put, delete or compare-and-swap) made on this node was applied `ms` after it arrived. */
  onProposalApplied?(ms: number): void;
  /**
   * As leader, an append to follower `peer` came back acknowledged `ms` after it left: both
   * network hops, the follower's wait for its event loop and its durable write.
   */
  onAppendRoundTrip?(peer: NodeId, ms: number): void;
  /**
   * As follower, this node's acknowledgement of an append left `ms` after the append was read:
   * its wait for its event loop and its durable write. The leader's round trip less this is what
   * the network and the leader's own loop added.
   */
  onAppendAnswered?(ms: number): void;
  /** This node finished sending a snapshot to a follower (`ok` false: the transfer failed). */
  onSnapshotSent?(ok: boolean): void;
  /** This node installed a snapshot received from the leader. */
  onSnapshotInstalled?(): void;
}

/** The observer of a node nobody observes. */
export const NO_NODE_OBSERVER: NodeObserver = Object.freeze({});
