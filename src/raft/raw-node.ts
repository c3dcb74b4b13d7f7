import { decodeConfChange, encodeConfChange } from './conf-change.js';
import type { ProgressState } from './progress.js';
import { ProposalDroppedError, Raft, type RaftConfig } from './raft.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  makeMessage,
  NONE,
  type NodeId,
  type Ready,
  Role,
  type SoftState,
} from './types.js';

/** The leader's view of one member, for status pages. */
export interface MemberProgress {
  match: number;
  next: number;
  state: ProgressState;
  learner: boolean;
  recentActive: boolean;
}

/** A snapshot of a node's Raft state, for status endpoints and tests. */
export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  confState: ConfState;
  /** Leader only: every member's replication progress. */
  progress: Map<NodeId, MemberProgress>;
  leadTransferee: NodeId;
}

/**
 * The driver's handle on one Raft node, in the shape of etcd-io/raft's
 * RawNode: feed it ticks, messages and requests; take a Ready, persist and
 * send it, then call advance(). Writes may overlap (etcd's asynchronous
 * storage writes): the driver may take further Readies before earlier ones
 * are written, as long as it writes them in order and reports each with
 * persisted(rd) and applied(rd), in order. Nothing is handed out twice.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(cfg: RaftConfig) {
    this.raft = new Raft(cfg);
    this.prevSoftState = { leader: this.raft.lead, role: this.raft.role };
    this.prevHardState = this.raft.hardState();
  }

  /** Advance the logical clock by one tick. */
  tick(): void {
    this.raft.tick();
  }

  /** Campaign now (tests and operators); pre-vote still applies. */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /** Propose client data for the log; throws ProposalDroppedError if it cannot be accepted here. */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ term: 0, index: 0, type: EntryType.Normal, data }]);
  }

  /** Propose several entries at once (one append, one flush): the group-commit path. */
  proposeEntries(entries: Entry[]): void {
    const reason = this.raft.step(makeMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
    if (reason !== null) throw new ProposalDroppedError(reason);
  }

  /** Propose a membership change; refused while another is pending or before this term commits. */
  proposeConfChange(cc: ConfChange): void {
    if (this.raft.role === Role.Leader) {
      const refusal = this.raft.confChangeRefusal(cc);
      if (refusal !== null) throw new ProposalDroppedError(refusal);
    }
    const data = encodeConfChange(cc);
    const reason = this.raft.step(
      makeMessage({
        type: MessageType.Prop,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data }],
      }),
    );
    if (reason !== null) throw new ProposalDroppedError(reason);
  }

  /** Feed a message from a peer; local-only message types are refused. */
  step(m: Message): void {
    if (m.type === MessageType.Hup || m.type === MessageType.Beat || m.type === MessageType.CheckQuorum) {
      throw new Error(`raft: cannot step local message ${MessageType[m.type]} from the network`);
    }
    // Responses from a member we do not know (e.g. removed) are dropped by the leader's step.
    this.raft.step(m);
  }

  /**
   * Ask for a linearizable read point. A ReadState with this context comes
   * out of a later Ready; once the state machine has applied its index, a
   * local read reflects every write committed before this call.
   */
  readIndex(context: Uint8Array): void {
    const reason = this.raft.step(makeMessage({ type: MessageType.ReadIndex, from: this.raft.id, context }));
    if (reason !== null) throw new ProposalDroppedError(reason);
  }

  /** Ask the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: NodeId): void {
    const reason = this.raft.step(makeMessage({ type: MessageType.TransferLeader, from: transferee }));
    if (reason !== null) throw new ProposalDroppedError(reason);
  }

  /** Report that a peer could not be reached, so the leader stops pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  /** Report how sending a snapshot to a peer ended. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(makeMessage({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  /** Whether ready() would return anything. */
  hasReady(): boolean {
    const r = this.raft;
    const ss = this.softState();
    if (ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.log.unstable.nextSnapshot()) return true;
    if (r.msgs.length > 0 || r.log.unstableEntries().length > 0 || r.readStates.length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  /** Take the work the driver must do now; call advance(rd) when it is done. */
  ready(): Ready {
    const r = this.raft;
    const ss = this.softState();
    const hs = r.hardState();
    const softChanged = ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.log.unstableEntries();
    const snapshot = r.log.unstable.nextSnapshot();
    // A snapshot replaces the log: apply nothing until it is installed.
    const committedEntries = snapshot ? [] : r.log.nextCommittedEntries();
    const rd: Ready = {
      softState: softChanged ? ss : null,
      hardState: hardChanged ? hs : null,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== null ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (softChanged) this.prevSoftState = ss;
    if (hardChanged) this.prevHardState = hs;
    // What this Ready carries is now the driver's to write and apply: never hand it out again.
    r.log.unstable.acceptInProgress();
    if (snapshot) r.log.applyingTo(snapshot.meta.index);
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted) r.log.applyingTo(lastCommitted.index);
    return rd;
  }

  /**
   * The driver persisted rd's state and entries, sent its messages and
   * applied its committed entries: persisted(rd) then applied(rd).
   */
  advance(rd: Ready): void {
    this.persisted(rd);
    this.applied(rd);
  }

  /**
   * rd's snapshot, hard state and entries are durable. Only now does a leader
   * count its own log towards commitment. Call in the order Readies were taken.
   */
  persisted(rd: Ready): void {
    const r = this.raft;
    if (rd.snapshot) {
      r.log.stableSnapTo(rd.snapshot.meta.index);
      r.log.appliedTo(rd.snapshot.meta.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last) {
      r.log.stableTo(last.index, last.term);
      r.leaderPersisted(last.index, last.term);
    }
  }

  /** rd's committed entries are applied; membership changes among them take effect now. */
  applied(rd: Ready): void {
    const r = this.raft;
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) r.applyConfChange(decodeConfChange(e.data));
    }
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last) r.log.appliedTo(last.index);
  }

  /** The current Raft state, for status and tests. */
  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<NodeId, MemberProgress>();
    for (const [id, pr] of r.progress) {
      progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        learner: pr.isLearner,
        recentActive: pr.recentActive,
      });
    }
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      confState: r.confState(),
      progress,
      leadTransferee: r.leadTransferee,
    };
  }

  /** Whether this node believes it leads. */
  isLeader(): boolean {
    return this.raft.role === Role.Leader && this.raft.lead === this.raft.id;
  }

  /** The leader this node knows of, or NONE. */
  leader(): NodeId {
    return this.raft.lead ?? NONE;
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
