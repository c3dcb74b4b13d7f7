import { type ConfChange, ConfChangeType, type ConfState } from '../raft/index.js';

const decoder = new TextDecoder();

/**
 * The membership after a conf change, computed exactly as Raft.applyConfChange
 * updates its voter and learner sets (AddNode promotes, AddLearner demotes,
 * RemoveNode removes from both), so the stored ConfState always equals the
 * core's. Addresses come from the change's context (UTF-8); an empty context
 * (e.g. a bootstrap entry) leaves any known address as it is. Inputs are not modified.
 */
export function applyConfChangeToState(
  cs: ConfState,
  members: ReadonlyMap<string, string>,
  cc: ConfChange,
): { confState: ConfState; members: Map<string, string> } {
  // Sets keep insertion order, like the core's, so ids stay in the order they joined.
  const voters = new Set(cs.voters);
  const learners = new Set(cs.learners);
  const nextMembers = new Map(members);
  const id = cc.nodeId;
  switch (cc.type) {
    case ConfChangeType.AddNode:
      learners.delete(id);
      voters.add(id);
      break;
    case ConfChangeType.AddLearner:
      voters.delete(id);
      learners.add(id);
      break;
    case ConfChangeType.RemoveNode:
      voters.delete(id);
      learners.delete(id);
      nextMembers.delete(id);
      break;
  }
  if (cc.type !== ConfChangeType.RemoveNode && cc.context.byteLength > 0) {
    nextMembers.set(id, decoder.decode(cc.context));
  }
  return { confState: { voters: [...voters], learners: [...learners] }, members: nextMembers };
}
