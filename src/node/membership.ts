/**
 * Membership at run time, on top of the core's single-server conf changes:
 * the leader adds members as learners, promotes them once caught up, removes
 * members (handing leadership over first when it is the one removed) and
 * transfers leadership; followers forward these calls to the leader over its
 * ClusterService. One change at a time: calls queue behind each other here,
 * and the core refuses a second pending change anyway.
 */
import type { CallOptions, MemberAddResult, MemberListResult, MemberStatus } from '../api/backend.js';
import { failedPrecondition, notFound, unavailable } from '../errors.js';
import {
  type ConfChange,
  ConfChangeType,
  type NodeId,
  ProposalDroppedError,
  type RaftStatus,
  type RawNode,
} from '../raft/index.js';
import type { ClusterClient } from './cluster-client.js';
import { memberContext, parseMemberRecord } from './member-context.js';

/** A learner this close to the leader's last index (and reachable) is promoted to voter. */
export const PROMOTION_LAG_ENTRIES = 64;

/** How often a change the core refused for now (another one pending) is tried again. */
const RETRY_MS = 20;

/** The log lines membership writes. */
interface MembershipLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What membership needs of the node that hosts it. */
export interface MembershipHost {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly client: ClusterClient;
  readonly log: MembershipLog;
  /** The core (built once the node started). */
  raw(): RawNode;
  /** Member id -> stored record (address, maybe marked), as of the applied index. */
  records(): Map<string, string>;
  /**
   * Whether a message came from this peer within the last election timeout. (The core's
   * recentActive is cleared at every check-quorum and set again by the next response, so read
   * at the wrong moment it calls every follower unreachable.)
   */
  heardFrom(id: NodeId): boolean;
  /** Resolves true once check() holds (checked as the node makes progress), false at the deadline. */
  waitUntil(check: () => boolean, deadlineMs: number): Promise<boolean>;
  /** Let the node hand the core's output to storage and the network. */
  schedulePump(): void;
  /** Throw UNAVAILABLE if the node is stopping or stopped. */
  checkServing(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The leader's and followers' side of ClusterService's membership calls. */
export class Membership {
  /** Serializes the changes this node proposes, so each waits for the one before. */
  private chain: Promise<unknown> = Promise.resolve();
  private promoting = false;

  constructor(private readonly host: MembershipHost) {}

  // ---- reading the configuration -------------------------------------------------------------

  /** Every member as this node knows it, with the leader's view of progress when it leads. */
  members(st: RaftStatus = this.host.raw().status()): MemberStatus[] {
    const records = this.host.records();
    const members: MemberStatus[] = [];
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      const pr = st.progress.get(id);
      members.push({
        id,
        address: parseMemberRecord(records.get(id) ?? '').address,
        learner: st.confState.learners.includes(id),
        matchIndex: pr?.match ?? 0,
        nextIndex: pr?.next ?? 0,
        reachable: id === st.id || (pr !== undefined && this.host.heardFrom(id)),
      });
    }
    return members;
  }

  /** The gRPC address of a member, or null if unknown. */
  address(id: NodeId): string | null {
    const raw = this.host.records().get(id);
    if (raw === undefined) return null;
    const { address } = parseMemberRecord(raw);
    return address === '' ? null : address;
  }

  private isMember(id: NodeId, st: RaftStatus = this.host.raw().status()): boolean {
    return st.confState.voters.includes(id) || st.confState.learners.includes(id);
  }

  // ---- forwarding ----------------------------------------------------------------------------

  /** Run `here` if this node leads, else `there` at the leader's address. */
  private async leaderOr<T>(
    opts: CallOptions | undefined,
    here: () => Promise<T>,
    there: (address: string) => Promise<T>,
  ): Promise<T> {
    this.host.checkServing();
    const raw = this.host.raw();
    if (raw.isLeader()) return here();
    const leader = raw.leader();
    if (opts?.forwarded) {
      // Forwarded here because the sender thought we lead: never forward again (no loops).
      throw unavailable(
        `node ${this.host.nodeId} is not the leader${leader === '' ? ' (no leader known)' : ` (the leader is ${leader})`}; try again`,
      );
    }
    if (leader === '') throw unavailable('no leader: an election is in progress or no quorum is reachable');
    const address = this.address(leader);
    if (address === null) throw unavailable(`the address of leader ${leader} is not known here yet`);
    return there(address);
  }

  /** The committed configuration, answered by the leader. */
  memberList(deadlineMs: number, opts?: CallOptions): Promise<MemberListResult> {
    return this.leaderOr(
      opts,
      async () => ({ leaderId: this.host.nodeId, members: this.members() }),
      (address) => this.host.client.memberList(address, deadlineMs, true),
    );
  }

  // ---- changes (leader) ----------------------------------------------------------------------

  /** Run `work` after every change queued before it. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Propose `cc` (as soon as the core accepts a change) and wait until `done()` holds on the
   * applied configuration. Fails UNAVAILABLE if leadership is lost or the deadline passes.
   */
  private async change(cc: ConfChange, done: () => boolean, deadlineMs: number): Promise<void> {
    const raw = this.host.raw();
    for (;;) {
      if (done()) return;
      this.host.checkServing();
      if (!raw.isLeader()) throw unavailable('leadership changed during the membership change; try again');
      try {
        raw.proposeConfChange(cc);
        break;
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
        // Another change (or this term's first commit) is pending: wait for it, within the deadline.
        if (Date.now() + RETRY_MS >= deadlineMs) {
          throw unavailable(`membership change not started before the deadline: ${e.message}`);
        }
        await sleep(RETRY_MS);
      }
    }
    this.host.schedulePump();
    const ok = await this.host.waitUntil(() => done() || !raw.isLeader(), deadlineMs);
    if (done()) return;
    if (ok)
      throw unavailable(
        'leadership changed before the membership change was applied; its outcome is unknown',
      );
    throw unavailable(
      'membership change not applied before the deadline (no quorum?); its outcome is unknown',
    );
  }

  /** Add a member as a learner (pinned if `learner`); the same id and address again changes nothing. */
  memberAdd(
    id: NodeId,
    address: string,
    learner: boolean,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<MemberAddResult> {
    return this.leaderOr(
      opts,
      () => this.serialized(() => this.addHere(id, address, learner, deadlineMs)),
      (leaderAddress) =>
        this.host.client.memberAdd(leaderAddress, { id, address, learner }, deadlineMs, true),
    );
  }

  private async addHere(id: NodeId, address: string, learner: boolean, deadlineMs: number) {
    const result = (): MemberAddResult => {
      const members = this.members();
      return { member: members.find((m) => m.id === id)!, members, clusterId: this.host.clusterId };
    };
    if (this.isMember(id)) {
      const known = this.address(id);
      if (known !== address) {
        throw failedPrecondition(
          `member ${id} already exists with address ${known ?? '(none)'}; remove it first to change its address`,
        );
      }
      return result();
    }
    const cc = { type: ConfChangeType.AddLearner, nodeId: id, context: memberContext(address, learner) };
    await this.change(cc, () => this.isMember(id), deadlineMs);
    this.host.log.info({ member: id, address, learner }, 'added a member as a learner');
    return result();
  }

  /** Remove a member; a leader removing itself hands leadership over first, then asks the new leader. */
  memberRemove(id: NodeId, deadlineMs: number, opts?: CallOptions): Promise<{ members: MemberStatus[] }> {
    return this.leaderOr(
      opts,
      () => this.serialized(() => this.removeHere(id, deadlineMs)),
      (address) => this.host.client.memberRemove(address, id, deadlineMs, true),
    );
  }

  private async removeHere(id: NodeId, deadlineMs: number): Promise<{ members: MemberStatus[] }> {
    const st = this.host.raw().status();
    if (!this.isMember(id, st)) throw notFound(`${id} is not a member of the cluster`);
    if (st.confState.voters.length === 1 && st.confState.voters[0] === id) {
      throw failedPrecondition(
        `${id} is the last voter; removing it would leave the cluster without a quorum`,
      );
    }
    if (id === this.host.nodeId) {
      // Removing the leader: hand over first (thesis §4.2.2), then the new leader removes us.
      const { leaderId } = await this.transferHere('', deadlineMs);
      const address = this.address(leaderId);
      if (address === null) throw unavailable(`the address of the new leader ${leaderId} is not known`);
      this.host.log.info(
        { leader: leaderId },
        'handed leadership over; asking the new leader to remove this node',
      );
      return this.host.client.memberRemove(address, id, deadlineMs, true);
    }
    const cc = { type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) };
    await this.change(cc, () => !this.isMember(id), deadlineMs);
    this.host.log.info({ member: id }, 'removed a member');
    return { members: this.members() };
  }

  /** Move leadership to `targetId` ('' for the most up-to-date other voter); resolves with the new leader. */
  transferLeadership(
    targetId: NodeId,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<{ leaderId: string; term: number }> {
    return this.leaderOr(
      opts,
      () => this.transferHere(targetId, deadlineMs),
      (address) => this.host.client.transferLeadership(address, targetId, deadlineMs, true),
    );
  }

  /** The voter other than this leader with the highest match index, preferring reachable ones. */
  private bestTransferee(st: RaftStatus): NodeId | null {
    let best: NodeId | null = null;
    let bestKey = -1;
    for (const id of st.confState.voters) {
      if (id === st.id) continue;
      const pr = st.progress.get(id);
      const key = (this.host.heardFrom(id) ? 2 ** 52 : 0) + (pr?.match ?? 0);
      if (key > bestKey) {
        best = id;
        bestKey = key;
      }
    }
    return best;
  }

  private async transferHere(
    targetId: NodeId,
    deadlineMs: number,
  ): Promise<{ leaderId: string; term: number }> {
    const raw = this.host.raw();
    const st = raw.status();
    let target = targetId;
    if (target === '') {
      const best = this.bestTransferee(st);
      if (best === null) throw failedPrecondition('there is no other voter to hand leadership to');
      target = best;
    } else if (target === st.id) {
      return { leaderId: st.id, term: st.term };
    } else if (!this.isMember(target, st)) {
      throw notFound(`${target} is not a member of the cluster`);
    } else if (!st.confState.voters.includes(target)) {
      throw failedPrecondition(`${target} is a learner; only a voter can lead`);
    }
    const handedOver = () => !raw.isLeader() && raw.leader() !== '';
    while (!handedOver()) {
      this.host.checkServing();
      if (raw.isLeader() && raw.status().leadTransferee === '') {
        try {
          raw.transferLeader(target);
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
        this.host.schedulePump();
      }
      // A transfer the core abandoned (not done within an election timeout) is started again.
      const step = Math.min(deadlineMs, Date.now() + 200);
      await this.host.waitUntil(handedOver, step);
      if (!handedOver() && Date.now() >= deadlineMs) {
        throw unavailable(`leadership was not handed to ${target} before the deadline`);
      }
    }
    const after = raw.status();
    this.host.log.info({ leader: after.leader, term: after.term }, 'leadership handed over');
    return { leaderId: after.leader, term: after.term };
  }

  // ---- promotion (leader, on ticks) ----------------------------------------------------------

  /** Promote one learner that has caught up, if this node leads and no change is pending. */
  maybePromote(deadlineMs: number): void {
    if (this.promoting) return;
    const raw = this.host.raw();
    // Cheap checks first: this runs on every tick.
    if (!raw.isLeader() || raw.raft.learners.size === 0) return;
    const st = raw.status();
    const records = this.host.records();
    for (const id of st.confState.learners) {
      const record = parseMemberRecord(records.get(id) ?? '');
      if (record.pinnedLearner) continue;
      const pr = st.progress.get(id);
      if (!pr || !this.host.heardFrom(id)) continue;
      if (pr.match === 0 || pr.match + PROMOTION_LAG_ENTRIES < st.lastIndex) continue;
      this.promoting = true;
      const cc = { type: ConfChangeType.AddNode, nodeId: id, context: memberContext(record.address, false) };
      const done = () => raw.status().confState.voters.includes(id);
      this.serialized(() => this.change(cc, done, deadlineMs))
        .then(
          () => this.host.log.info({ member: id, match: pr.match }, 'promoted a caught-up learner to voter'),
          (e: unknown) => this.host.log.warn({ member: id, err: e }, 'could not promote a learner yet'),
        )
        .finally(() => {
          this.promoting = false;
        });
      return;
    }
  }
}
