import type { Role } from '../raft/index.js';

/** How fresh a read must be. */
export enum ReadConsistency {
  /** Reflects every write acknowledged before the read began (ReadIndex through the leader). */
  Linearizable = 'linearizable',
  /** This node's local state: fast, possibly stale. */
  Serializable = 'serializable',
}

/** A key with its value and the Raft index of the write that last set it. */
export interface KeyValue {
  key: Buffer;
  value: Buffer;
  modRevision: number;
}

/** One member as the node reports it. */
export interface MemberStatus {
  id: string;
  address: string;
  learner: boolean;
  /** Leader only: highest index known replicated there (0 elsewhere). */
  matchIndex: number;
  /** Leader only: next index to send (0 elsewhere). */
  nextIndex: number;
  /** Leader only: heard from within the last election timeout. */
  reachable: boolean;
}

/** The node's Raft and storage state, for ClusterService.Status. */
export interface NodeStatus {
  nodeId: string;
  role: Role;
  /** True if this node is not a voter (a learner). */
  learner: boolean;
  term: number;
  leaderId: string;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  /** Index of the first entry still in the log (compaction moves it forward). */
  firstIndex: number;
  members: MemberStatus[];
  /** True once this node knows it was removed from the cluster (it then stays passive). */
  removed: boolean;
}

/** The committed configuration as the leader reports it (ClusterService.MemberList). */
export interface MemberListResult {
  leaderId: string;
  members: MemberStatus[];
}

/** The outcome of adding a member (ClusterService.MemberAdd). */
export interface MemberAddResult {
  member: MemberStatus;
  members: MemberStatus[];
  /** The cluster id the peer transport checks; a joining node must use it. */
  clusterId: string;
}

/** The gRPC metadata key a node sets when it forwards a membership call to the leader. */
export const FORWARDED_METADATA_KEY = 'dkv-forwarded';

/** How a membership call reached this node. */
export interface CallOptions {
  /** Already forwarded by another node: answer here or fail, never forward again (no loops). */
  forwarded?: boolean;
}

/**
 * What the gRPC and REST layers call: one implementation (the node), two
 * protocols. Every method honours `deadlineMs` (an absolute Date.now() time)
 * and rejects with a DkvError: InvalidArgument, NotFound, Unavailable
 * (no leader, shutting down) or DeadlineExceeded. Keys and values arrive
 * already decoded and validated for size by the API layer.
 */
export interface KvBackend {
  put(key: Buffer, value: Buffer, deadlineMs: number): Promise<{ revision: number }>;
  /** Resolves null when the key is absent. */
  get(
    key: Buffer,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kv: KeyValue | null; revision: number }>;
  delete(key: Buffer, deadlineMs: number): Promise<{ deleted: boolean; revision: number }>;
  /**
   * Keys with the prefix (all keys if empty), in byte order, strictly after `startAfter` if given,
   * at most `limit`; `more` says whether keys remain after the last one returned.
   */
  range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kvs: KeyValue[]; more: boolean; revision: number }>;
  /**
   * Set key to value if its current value equals `expected` (null: only if the key is absent).
   * When not swapped, `current` is the value found (null if absent).
   */
  compareAndSwap(
    key: Buffer,
    expected: Buffer | null,
    value: Buffer,
    deadlineMs: number,
  ): Promise<{ swapped: boolean; revision: number; current: Buffer | null }>;
  status(): NodeStatus;

  /** The committed members with the leader's view of their progress; followers ask the leader. */
  memberList(deadlineMs: number, opts?: CallOptions): Promise<MemberListResult>;
  /**
   * Add a member as a learner (kept a learner if `learner`, else promoted once caught up);
   * the same id and address again succeeds without change. Followers forward to the leader.
   */
  memberAdd(
    id: string,
    address: string,
    learner: boolean,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<MemberAddResult>;
  /** Remove a member (the leader hands leadership over first if it is the one removed). */
  memberRemove(id: string, deadlineMs: number, opts?: CallOptions): Promise<{ members: MemberStatus[] }>;
  /** Hand leadership to `targetId` ('' for the most up-to-date other voter); resolves with the new leader. */
  transferLeadership(
    targetId: string,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<{ leaderId: string; term: number }>;
  /** Stop this node gracefully, as SIGTERM does, once the reply has been sent. */
  shutdown(): Promise<{ nodeId: string }>;
}

/**
 * The backend as the API layer needs it: KvBackend, except that status may be answered
 * asynchronously, as it is when the REST server runs in its own thread and asks the node's
 * thread (rest-thread.ts). A KvBackend is one.
 */
export interface ApiBackend extends Omit<KvBackend, 'status'> {
  status(): NodeStatus | Promise<NodeStatus>;
}
