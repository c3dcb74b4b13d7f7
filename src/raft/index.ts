/**
 * The consensus core's public surface: a pure, deterministic Raft in the
 * shape of etcd-io/raft's RawNode. Nothing in src/raft performs I/O, reads a
 * clock or draws global randomness; the driver (src/node) does that around it.
 */
export { bootstrapLog } from './bootstrap.js';
export { decodeConfChange, encodeConfChange } from './conf-change.js';
export { cloneConfState, MemoryStorage } from './memory-storage.js';
export { Prng } from './prng.js';
export { ProgressState } from './progress.js';
export { bytesEqual, ProposalDroppedError, type RaftConfig } from './raft.js';
export { type MemberProgress, type RaftStatus, RawNode } from './raw-node.js';
export {
  CompactedError,
  entrySize,
  type LogStorage,
  limitSize,
  SnapshotUnavailableError,
  UnavailableError,
} from './storage.js';
export * from './types.js';
