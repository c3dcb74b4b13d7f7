import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { type Message, MessageType, NONE, Role } from './types.js';

/** A (pre-)candidate's rules: count votes; yield to a leader of our term. */
export function stepCandidate(r: Raft, m: Message): string | null {
  const myVoteResp = r.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      return 'no leader (election in progress)';
    case MessageType.ReadIndex:
      return 'no leader (election in progress)';
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      r.handleAppend(m);
      return null;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return null;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
      return null;
    case myVoteResp: {
      const res = r.poll(m.from, !m.reject);
      if (res === VoteResult.Won) {
        if (r.role === Role.PreCandidate) r.campaign(false, false);
        else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (res === VoteResult.Lost) {
        r.becomeFollower(r.term, NONE);
      }
      return null;
    }
    default:
      return null;
  }
}
