import type { Prng } from './prng.js';
import { Progress, ProgressState } from './progress.js';
import { hasQuorum, majorityCommitIndex, VoteResult, voteResult } from './quorum.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower } from './step-follower.js';
import { stepLeader } from './step-leader.js';
import { CompactedError, entrySize, type LogStorage, SnapshotUnavailableError } from './storage.js';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  makeMessage,
  NONE,
  type NodeId,
  type ReadState,
  Role,
  type Snapshot,
} from './types.js';

/** How a node is set up; every timing is in ticks, which the driver produces from a real or simulated clock. */
export interface RaftConfig {
  id: NodeId;
  storage: LogStorage;
  /** The seeded generator that randomizes election timeouts. */
  rng: Prng;
  /** A follower that hears from no leader for this many ticks (plus jitter in [0, this)) campaigns. */
  electionTicks: number;
  /** The leader sends heartbeats every this many ticks. */
  heartbeatTicks: number;
  /** The last index already applied to the state machine (persisted with it); defaults to the snapshot index. */
  applied?: number;
  /** Most entries in one append message. */
  maxMsgEntries?: number;
  /** Most bytes of entries in one append message (at least one entry is always sent). */
  maxMsgBytes?: number;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  maxInflightMsgs?: number;
  /** Bytes in flight to one follower before the leader waits (0: no byte limit). */
  maxInflightBytes?: number;
  /** Most bytes of committed entries handed to the application in one Ready. */
  maxApplyBytes?: number;
  /** Run a pre-vote round before an election, so a partitioned node cannot inflate terms (thesis §9.6). */
  preVote?: boolean;
  /** A leader that hears from no quorum for an election timeout steps down (thesis §6.2). */
  checkQuorum?: boolean;
}

/** Why a proposal or request was not accepted; the caller may retry elsewhere or later. */
export class ProposalDroppedError extends Error {
  readonly code = 'RAFT_PROPOSAL_DROPPED';
}

/** Marks a vote request that comes from a leadership transfer, which may bypass the leader lease. */
export const TRANSFER_CONTEXT = new Uint8Array([0x74, 0x72]);

/**
 * One node's Raft state and rules. Pure: no clock, no I/O, no randomness of
 * its own. Messages are appended to `msgs` and read states to `readStates`;
 * RawNode turns them, with the log's unstable and committed entries, into a
 * Ready for the driver.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  readonly log: RaftLog;

  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  /** Leader only: replication progress of every member, self included. */
  readonly progress = new Map<NodeId, Progress>();
  /** Candidate only: votes received this election. */
  readonly votes = new Map<NodeId, boolean>();

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId = NONE;
  /** Leader: a conf change may be proposed only once this index is applied (one change at a time). */
  pendingConfIndex = 0;
  readonly readOnly = new ReadOnly();
  /** Leader: ReadIndex requests held until an entry of this term commits (thesis §6.4 step 1). */
  pendingReadIndexMessages: Message[] = [];

  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly maxMsgEntries: number;
  readonly maxMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly rng: Prng;

  constructor(cfg: RaftConfig) {
    if (cfg.id === NONE) throw new Error('raft: node id must not be empty');
    if (cfg.heartbeatTicks <= 0) throw new Error('raft: heartbeatTicks must be > 0');
    if (cfg.electionTicks <= cfg.heartbeatTicks)
      throw new Error('raft: electionTicks must be > heartbeatTicks');
    this.id = cfg.id;
    this.rng = cfg.rng;
    this.electionTicks = cfg.electionTicks;
    this.heartbeatTicks = cfg.heartbeatTicks;
    this.maxMsgEntries = cfg.maxMsgEntries ?? 512;
    this.maxMsgBytes = cfg.maxMsgBytes ?? 1024 * 1024;
    this.maxInflightMsgs = cfg.maxInflightMsgs ?? 256;
    this.maxInflightBytes = cfg.maxInflightBytes ?? 0;
    this.preVote = cfg.preVote ?? true;
    this.checkQuorum = cfg.checkQuorum ?? true;
    this.log = new RaftLog(cfg.storage, cfg.maxApplyBytes ?? 16 * 1024 * 1024);

    const { hardState, confState } = cfg.storage.initialState();
    this.setConfState(confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0)
      this.loadHardState(hardState);
    if (cfg.applied !== undefined && cfg.applied > 0) this.log.appliedTo(cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---- state that RawNode reports ------------------------------------------------------------

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  /** Whether this node may campaign: only voters can. */
  promotable(): boolean {
    return this.voters.has(this.id);
  }

  private loadHardState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new Error(
        `raft: persisted commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  private setConfState(cs: ConfState): void {
    this.voters.clear();
    this.learners.clear();
    for (const v of cs.voters) this.voters.add(v);
    for (const l of cs.learners) this.learners.add(l);
  }

  // ---- role transitions --------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTicks + this.rng.int(this.electionTicks);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.progress.clear();
    this.pendingConfIndex = 0;
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  becomePreCandidate(): void {
    if (this.role === Role.Leader) throw new Error('raft: invalid transition [leader -> pre-candidate]');
    // A pre-candidate keeps its term and vote: the pre-vote round changes nothing durable.
    this.votes.clear();
    this.lead = NONE;
    this.role = Role.PreCandidate;
  }

  becomeCandidate(): void {
    if (this.role === Role.Leader) throw new Error('raft: invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  becomeLeader(): void {
    if (this.role === Role.Follower) throw new Error('raft: invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const last = this.log.lastIndex();
    for (const id of this.members()) {
      const pr = new Progress(last + 1, this.maxInflightMsgs, this.maxInflightBytes, this.learners.has(id));
      this.progress.set(id, pr);
    }
    const self = this.progress.get(this.id);
    if (self) {
      // The leader counts its own log only as far as it is durable; advance() moves this on.
      self.match = this.stableLastIndex();
      self.becomeReplicate();
      self.recentActive = true;
    }
    // No membership change until an entry of this term is committed and applied (the no-op below).
    this.pendingConfIndex = last + 1;
    // The no-op of a new term (Raft §8): commits the previous terms' entries and lets ReadIndex start.
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
  }

  /** The last index the driver has persisted without a pending overwrite. */
  private stableLastIndex(): number {
    if (this.log.unstable.snapshot) return 0;
    return Math.min(this.log.storage.lastIndex(), this.log.unstable.offset - 1);
  }

  private *members(): Iterable<NodeId> {
    yield* this.voters;
    yield* this.learners;
  }

  // ---- elections ---------------------------------------------------------------------------

  /** Start a pre-election or election, unless something makes this node unfit to lead. */
  hup(transfer: boolean): void {
    if (this.role === Role.Leader) return;
    if (!this.promotable()) return;
    // Campaigning with unapplied membership changes could elect us under a stale configuration.
    if (this.hasUnappliedConfChange()) return;
    if (this.preVote && !transfer) this.campaign(true, false);
    else this.campaign(false, transfer);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    for (const e of this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  campaign(pre: boolean, transfer: boolean): void {
    let term: number;
    let voteType: MessageType;
    if (pre) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      // Pre-vote asks "would you vote for me at term+1?" without moving our own term.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single-voter cluster wins at once.
      if (pre) this.campaign(false, transfer);
      else this.becomeLeader();
      return;
    }
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send(
        makeMessage({
          type: voteType,
          to: id,
          term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          context: transfer ? TRANSFER_CONTEXT : EMPTY_BYTES,
        }),
      );
    }
  }

  /** Record a vote and tally the election. */
  poll(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.voters, this.votes);
  }

  // ---- ticks -------------------------------------------------------------------------------

  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === Role.Leader && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- the common step: term rules (Raft §5.1), votes; then the role's own rules -----------

  /** Process one message; returns null, or why a proposal/request was dropped. */
  step(m: Message): string | null {
    if (m.term === 0) {
      // Local message, or a proposal/read forwarded without a term.
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = bytesEqual(m.context, TRANSFER_CONTEXT);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks;
        // We heard from a live leader within the election timeout: ignore the disruption (thesis §4.2.3).
        if (!force && inLease) return null;
      }
      if (m.type === MessageType.PreVote) {
        // Never change term on a pre-vote request.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; we move to it only if we win.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.Heartbeat || m.type === MessageType.App)
      ) {
        // A stale leader, perhaps cut off by a partition: tell it our term so it steps down,
        // since with pre-vote we would otherwise never raise its term.
        this.send(makeMessage({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(makeMessage({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
      }
      return null;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return null;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return null;
      default:
        switch (this.role) {
          case Role.Leader:
            return stepLeader(this, m);
          case Role.Candidate:
          case Role.PreCandidate:
            return stepCandidate(this, m);
          case Role.Follower:
            return stepFollower(this, m);
        }
    }
  }

  private handleVoteRequest(m: Message): void {
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    // Election restriction (Raft §5.4.1): only a candidate whose log is at least as up-to-date.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send(makeMessage({ type: respType, to: m.from, term: m.term }));
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(makeMessage({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---- sending -----------------------------------------------------------------------------

  send(m: Message): void {
    // A forwarded TransferLeader names the transferee in `from` (as in etcd-io/raft): keep it.
    if (m.type !== MessageType.TransferLeader || m.from === NONE) m.from = this.id;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      if (m.term === 0) throw new Error(`raft: vote message ${MessageType[m.type]} must carry a term`);
    } else if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) {
      // Proposals and reads travel without a term: they are forwarded like local messages.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Send an append (or a snapshot if the entries are compacted); false if nothing was sent. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[];
    try {
      if (prevTerm === 0 && prevIndex > 0 && prevIndex < this.log.firstIndex() - 1)
        throw new CompactedError(prevIndex);
      ents = this.log.entries(pr.next, this.maxMsgBytes);
    } catch (e) {
      if (e instanceof CompactedError) return this.sendSnapshot(to, pr);
      throw e;
    }
    if (ents.length > this.maxMsgEntries) ents = ents.slice(0, this.maxMsgEntries);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      makeMessage({
        type: MessageType.App,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.log.committed,
      }),
    );
    if (ents.length > 0) {
      let bytes = 0;
      for (const e of ents) bytes += entrySize(e);
      pr.sentEntries(ents[ents.length - 1]!.index, bytes);
    }
    // A probe waits for its answer (or the next heartbeat) before another goes out.
    if (pr.state === ProgressState.Probe) pr.probeSent = true;
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // A member we have not heard from may be down: do not ship it a snapshot yet.
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (e instanceof SnapshotUnavailableError) return false;
      throw e;
    }
    if (snap.meta.index === 0) throw new Error('raft: need a non-empty snapshot to send');
    pr.becomeSnapshot(snap.meta.index);
    this.send(makeMessage({ type: MessageType.Snap, to, snapshot: snap }));
    return true;
  }

  bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, true);
  }

  bcastHeartbeat(context: Uint8Array): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(makeMessage({ type: MessageType.Heartbeat, to: id, commit, context }));
    }
  }

  // ---- the leader's log --------------------------------------------------------------------

  /** Stamp entries with this term and the next indexes and append them. */
  appendEntries(es: Entry[]): void {
    const li = this.log.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i] = { ...es[i]!, term: this.term, index: li + 1 + i };
    }
    this.log.append(es);
  }

  /** Advance the commit index from the voters' match indexes (only entries of this term count). */
  maybeCommit(): boolean {
    const mci = majorityCommitIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    return this.log.maybeCommit(mci, this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Whether a quorum of voters has been heard from recently (self counts). */
  quorumActive(): boolean {
    return hasQuorum(this.voters, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
  }

  /** Answer a confirmed ReadIndex request: locally, or to the follower that forwarded it. */
  respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
    } else {
      this.send(makeMessage({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context }));
    }
  }

  /** Once this term has a committed entry, release the reads that waited for it. */
  releasePendingReadIndexMessages(): void {
    if (!this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) stepLeader(this, m);
  }

  /** The leader persisted its log up to index: count itself towards commitment. */
  leaderPersisted(index: number, term: number): void {
    if (this.role !== Role.Leader || this.log.term(index) !== term) return;
    const self = this.progress.get(this.id);
    if (!self) return;
    self.maybeUpdate(index);
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    }
  }

  // ---- followers: appends, heartbeats, snapshots -------------------------------------------

  handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    // Mismatch (Raft §5.3): hint the leader at the last index whose term is <= the probe's term,
    // so it can skip a whole term of conflicting entries in one round trip.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      makeMessage({
        type: MessageType.AppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTermHint: hint.term,
      }),
    );
  }

  handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(makeMessage({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (this.restore(s)) {
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
    }
  }

  /** Adopt a snapshot from the leader; false if we already have everything it holds. */
  private restore(s: Snapshot): boolean {
    if (s.meta.index <= this.log.committed) return false;
    // A snapshot may predate our own addition (a new learner): we still take it and
    // learn of our membership from the entries after it.
    const cs = s.meta.confState;
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // We hold the snapshot's last entry: just fast-forward commit.
      this.log.commitTo(s.meta.index);
      return false;
    }
    this.log.restore(s);
    this.setConfState(cs);
    return true;
  }

  // ---- membership --------------------------------------------------------------------------

  /** Apply a committed membership change (called as the entry is applied). */
  applyConfChange(cc: ConfChange): void {
    const id = cc.nodeId;
    switch (cc.type) {
      case ConfChangeType.AddNode:
        this.learners.delete(id);
        this.voters.add(id);
        break;
      case ConfChangeType.AddLearner:
        this.voters.delete(id);
        this.learners.add(id);
        break;
      case ConfChangeType.RemoveNode:
        this.voters.delete(id);
        this.learners.delete(id);
        break;
    }
    if (this.role !== Role.Leader) return;
    if (cc.type === ConfChangeType.RemoveNode) {
      this.progress.delete(id);
      if (this.leadTransferee === id) this.leadTransferee = NONE;
    } else {
      const pr = this.progress.get(id);
      if (pr) {
        pr.isLearner = cc.type === ConfChangeType.AddLearner;
      } else {
        const fresh = new Progress(
          this.log.lastIndex() + 1,
          this.maxInflightMsgs,
          this.maxInflightBytes,
          false,
        );
        fresh.isLearner = cc.type === ConfChangeType.AddLearner;
        // A new member gets an election timeout's grace before check-quorum counts it as silent.
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      }
    }
    if (!this.voters.has(this.id)) {
      // Removed (or demoted) leader: stop leading; the remaining voters elect a successor.
      this.becomeFollower(this.term, NONE);
      return;
    }
    // The quorum may have shrunk: entries may now be committed.
    if (this.maybeCommit()) this.bcastAppend();
    else for (const to of this.progress.keys()) if (to !== this.id) this.maybeSendAppend(to, false);
  }

  /** Check a conf change a leader is asked to propose; returns why it must be refused, or null. */
  confChangeRefusal(cc: ConfChange): string | null {
    if (!this.committedEntryInCurrentTerm() || this.pendingConfIndex > this.log.applied) {
      return 'a membership change is already in progress (or this leader has not committed in its term yet)';
    }
    if (cc.nodeId === NONE) return 'membership change names no node';
    if (cc.type === ConfChangeType.RemoveNode || cc.type === ConfChangeType.AddLearner) {
      const remaining = [...this.voters].filter((v) => v !== cc.nodeId);
      if (remaining.length === 0) return 'refusing to remove or demote the last voter';
    }
    return null;
  }
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
