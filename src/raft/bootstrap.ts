import { encodeConfChange } from './conf-change.js';
import { ConfChangeType, type Entry, EntryType, type HardState, NONE, type NodeId } from './types.js';

/**
 * The log every founding member starts with: one committed AddNode entry per
 * initial voter at term 1 (as etcd-io/raft's Bootstrap does). Putting the
 * initial membership in the log, not only in local config, means a member
 * added later learns the whole membership from the log or a snapshot.
 */
export function bootstrapLog(
  voters: readonly NodeId[],
  /** Per voter, the conf change context (dkv puts the member's gRPC address there). */
  contexts: ReadonlyMap<NodeId, Uint8Array> = new Map(),
): { entries: Entry[]; hardState: HardState } {
  if (voters.length === 0) throw new Error('raft: bootstrap needs at least one voter');
  if (new Set(voters).size !== voters.length) throw new Error('raft: bootstrap voters must be distinct');
  const entries = voters.map(
    (nodeId, i): Entry => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({
        type: ConfChangeType.AddNode,
        nodeId,
        context: contexts.get(nodeId) ?? new Uint8Array(0),
      }),
    }),
  );
  return { entries, hardState: { term: 1, vote: NONE, commit: entries.length } };
}
