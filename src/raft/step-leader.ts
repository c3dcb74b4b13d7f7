import { decodeConfChange } from './conf-change.js';
import { ProgressState } from './progress.js';
import { hasQuorum } from './quorum.js';
import type { Raft } from './raft.js';
import { EMPTY_BYTES, EntryType, type Message, MessageType, makeMessage, NONE } from './types.js';

/** A leader's rules: replicate, commit, heartbeat, serve ReadIndex, transfer leadership. */
export function stepLeader(r: Raft, m: Message): string | null {
  switch (m.type) {
    case MessageType.Beat:
      r.bcastHeartbeat(r.readOnly.lastPendingContext() ?? EMPTY_BYTES);
      return null;
    case MessageType.CheckQuorum:
      if (!r.quorumActive()) {
        r.becomeFollower(r.term, NONE);
        return null;
      }
      for (const [id, pr] of r.progress) if (id !== r.id) pr.recentActive = false;
      return null;
    case MessageType.Prop:
      return propose(r, m);
    case MessageType.ReadIndex:
      return readIndex(r, m);
    default:
      break;
  }

  // Everything below is a reply from a member.
  const pr = r.progress.get(m.from);
  if (!pr) return null;
  switch (m.type) {
    case MessageType.AppResp: {
      pr.recentActive = true;
      if (m.reject) {
        // Fast backtrack: jump to the follower's hint, or further using our own log's terms.
        let next = m.rejectHint;
        if (m.logTermHint > 0) next = r.log.findConflictByTerm(m.rejectHint, m.logTermHint).index;
        if (pr.maybeDecrTo(m.index, next)) {
          if (pr.state === ProgressState.Replicate) pr.becomeProbe();
          r.maybeSendAppend(m.from, true);
        }
        return null;
      }
      const wasPaused = pr.isPaused();
      if (!pr.maybeUpdate(m.index)) return null;
      if (pr.state === ProgressState.Probe) pr.becomeReplicate();
      else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);

      if (r.maybeCommit()) {
        r.releasePendingReadIndexMessages();
        r.bcastAppend();
      } else if (wasPaused) {
        r.maybeSendAppend(m.from, true);
      }
      // Pipeline: fill the in-flight window with whatever the follower still lacks
      // (never more sends than the window holds, whatever state the progress is in).
      for (let i = 0; i < r.maxInflightMsgs && r.maybeSendAppend(m.from, false); i++) {}
      if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
      return null;
    }
    case MessageType.HeartbeatResp: {
      pr.recentActive = true;
      pr.probeSent = false;
      // Appends may have been lost with the window full: free a slot so one more goes out;
      // if there is a gap the follower rejects it and we fall back to probing.
      if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
      if (pr.match < r.log.lastIndex()) r.maybeSendAppend(m.from, true);
      if (m.context.byteLength === 0) return null;
      const acks = r.readOnly.recvAck(m.from, m.context);
      if (!acks || !hasQuorum(r.voters, (id) => acks.has(id))) return null;
      for (const rs of r.readOnly.advance(m.context)) r.respondToReadIndex(rs.req, rs.index);
      return null;
    }
    case MessageType.SnapStatus:
      if (pr.state !== ProgressState.Snapshot) return null;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for the follower's next heartbeat reply before probing again.
      pr.probeSent = true;
      return null;
    case MessageType.Unreachable:
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return null;
    case MessageType.TransferLeader: {
      if (pr.isLearner) return 'cannot transfer leadership to a learner';
      const transferee = m.from;
      if (transferee === r.id) return null;
      if (r.leadTransferee === transferee) return null;
      // A transfer must finish within an election timeout (thesis §3.10).
      r.electionElapsed = 0;
      r.leadTransferee = transferee;
      if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
      else r.maybeSendAppend(transferee, true); // catch it up first
      return null;
    }
    default:
      return null;
  }
}

function propose(r: Raft, m: Message): string | null {
  if (m.entries.length === 0) throw new Error('raft: empty proposal');
  if (!r.progress.has(r.id)) return 'this node was removed from the cluster';
  if (r.leadTransferee !== NONE) return 'leadership transfer in progress';
  const entries = m.entries.slice();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    let refusal: string | null;
    try {
      refusal = r.confChangeRefusal(decodeConfChange(e.data));
    } catch {
      refusal = 'malformed membership change';
    }
    if (refusal !== null) {
      if (entries.length === 1) return refusal;
      // Keep the batch's other entries; this one becomes a no-op.
      entries[i] = { ...e, type: EntryType.Normal, data: EMPTY_BYTES };
    } else {
      r.pendingConfIndex = r.log.lastIndex() + i + 1;
    }
  }
  r.appendEntries(entries);
  r.bcastAppend();
  return null;
}

function readIndex(r: Raft, m: Message): string | null {
  if (r.voters.size === 1 && r.voters.has(r.id)) {
    r.respondToReadIndex(m, r.log.committed);
    return null;
  }
  // Thesis §6.4: until an entry of this term commits, our commit index may be stale.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return null;
  }
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  r.bcastHeartbeat(m.context);
  return null;
}

function sendTimeoutNow(r: Raft, to: string): void {
  r.send(makeMessage({ type: MessageType.TimeoutNow, to }));
}
