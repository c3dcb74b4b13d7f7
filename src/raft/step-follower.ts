import type { Raft } from './raft.js';
import { type Message, MessageType, NONE } from './types.js';

/** A follower's rules: accept the leader's log, forward client requests to it, campaign on TimeoutNow. */
export function stepFollower(r: Raft, m: Message): string | null {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) return 'no leader';
      r.send({ ...m, to: r.lead });
      return null;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleAppend(m);
      return null;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleHeartbeat(m);
      return null;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleSnapshot(m);
      return null;
    case MessageType.TransferLeader:
      if (r.lead === NONE) return 'no leader to transfer from';
      r.send({ ...m, to: r.lead });
      return null;
    case MessageType.TimeoutNow:
      // The leader chose us (thesis §3.10): campaign at once, skipping pre-vote and the lease.
      r.hup(true);
      return null;
    case MessageType.ReadIndex:
      if (r.lead === NONE) return 'no leader';
      r.send({ ...m, to: r.lead });
      return null;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, context: m.context });
      return null;
    default:
      return null;
  }
}
