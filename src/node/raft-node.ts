import { randomBytes } from 'node:crypto';
import {
  type CallOptions,
  type KeyValue,
  type KvBackend,
  type MemberAddResult,
  type MemberListResult,
  type MemberStatus,
  type NodeStatus,
  ReadConsistency,
} from '../api/backend.js';
import { DkvError, ErrorCode, unavailable } from '../errors.js';
import {
  bootstrapLog,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  Prng,
  ProposalDroppedError,
  RawNode,
  type Ready,
  type Role,
} from '../raft/index.js';
import { encodeRequest } from '../storage/request-codec.js';
import type { ApplyResult, Command, CommandResult, NodeStore } from '../storage/types.js';
import type { PeerTransport } from '../transport/types.js';
import { AppendHold } from './append-hold.js';
import { AppendTimer } from './append-timer.js';
import { ClusterClient } from './cluster-client.js';
import { parseMemberRecord } from './member-context.js';
import { Membership } from './membership.js';
import { NO_NODE_OBSERVER, type NodeObserver } from './node-observer.js';
import { ReadBarrier } from './read-barrier.js';
import { TurnEnd } from './turn-end.js';
import { Waiters } from './waiters.js';

/** The log lines the node writes; pino's logger fits. */
export interface NodeLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How a node is put together and timed. */
export interface RaftNodeOptions {
  nodeId: NodeId;
  store: NodeStore;
  transport: PeerTransport;
  /** The founding members; used only the first time the node starts on an empty store. */
  founders: { id: NodeId; address: string }[];
  /**
   * A node that joined a running cluster and holds no membership yet: the members (from the
   * MemberAdd answer) to reach until the log or a snapshot tells it the membership.
   */
  joinPeers?: { id: NodeId; address: string }[];
  /** The cluster id the transport uses; MemberAdd hands it to joining nodes. */
  clusterId: string;
  /** Called (after the reply is on its way) when a client asks this node to shut down. */
  onShutdown?: () => void;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotThreshold: number;
  compactKeepEntries: number;
  snapshotChunkBytes: number;
  log: NodeLogger;
  /** Told of role and leader changes, answered writes and snapshots (metrics); none by default. */
  observer?: NodeObserver;
}

const encoder = new TextEncoder();

/** Readies whose writes may overlap; beyond this the pump waits (backpressure on the store). */
const MAX_WRITES_IN_FLIGHT = 8;

/**
 * Compaction deletes at most this many entries per transaction, one step at a time, each riding
 * with the next write group. Deleting the 9,000 entries of a 10,000-entry log at once took
 * 11-47 ms of a node's main thread and 35-65 ms of transaction at 64 writers, and every later
 * Ready waited for it (a follower's acks, the leader's own persisted report): a stall on every
 * node every second or two.
 */
export const COMPACT_STEP_ENTRIES = 1000;

/**
 * The driver: the one place that joins the pure Raft core to LMDB storage,
 * the gRPC transport and the clock, and serves the KvBackend the API calls.
 *
 * Its loop (pump): take a Ready and issue its write at once, one transaction
 * that persists its hard state, entries or snapshot and applies its committed
 * entries (flushed when anything in it must be durable); a leader's appends
 * leave right away, everything else once the write is done. Writes overlap
 * (etcd's asynchronous storage writes) but land and finish in order; each
 * finish answers the writes and reads waiting on it and reports
 * persisted/applied to the core. Proposals made in one event-loop turn go to
 * the core as one batch (one append); linearizable reads made in one turn
 * share one ReadIndex round.
 */
export class RaftNode implements KvBackend {
  /** The core; built by start() from what storage holds. */
  private raw!: RawNode;
  private readonly store: NodeStore;
  private readonly transport: PeerTransport;
  private readonly log: NodeLogger;
  private readonly observer: NodeObserver;
  private ticker: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private stopped = false;
  private fatal: Error | null = null;
  /** Readies whose write has been issued and not yet finished. */
  private writesInFlight = 0;
  /** Settles once every issued Ready has finished, in order. */
  private finished: Promise<void> = Promise.resolve();

  /** Writes waiting to be applied, by request id. */
  private readonly writes = new Waiters<CommandResult>();
  private readonly bootNonce = randomBytes(6).toString('hex');
  private nextRequest = 0;
  private pendingProposals: { data: Uint8Array; id: string }[] = [];
  private proposalFlushScheduled = false;
  /** Compaction goes up to this index, COMPACT_STEP_ENTRIES at a time (0: nothing decided yet). */
  private compactTarget = 0;
  /** The compaction step in flight, if any; stop() waits for it. */
  private compaction: Promise<void> | null = null;
  /** This leader's appends that hold new proposals back (see append-hold.ts). */
  private readonly appendHold = new AppendHold();
  /** Serializable reads of one event-loop turn are answered together at its end. */
  private readonly turnEnd = new TurnEnd();
  /** The leader's appends to each follower until acknowledged; null when nobody observes round trips. */
  private appendTimer: AppendTimer | null = null;
  /** Appends read from the leader until this follower acknowledges them; null when nobody observes. */
  private answerTimer: AppendTimer | null = null;
  /** What the two timers tell the observer. */
  private readonly reportRoundTrip = (peer: NodeId, ms: number): void =>
    this.observer.onAppendRoundTrip?.(peer, ms);
  private readonly reportAnswer = (_leader: NodeId, ms: number): void => this.observer.onAppendAnswered?.(ms);

  /** Linearizable reads: one ReadIndex round per turn, then a wait for the applied index. */
  private readonly reads = new ReadBarrier({
    readIndex: (ctx) => this.raw.readIndex(ctx),
    appliedIndex: () => this.store.appliedIndex(),
    schedulePump: () => this.schedulePump(),
    refused: (detail) => unavailable(this.noLeaderReason(detail)),
    timedOut: () => this.timeoutError('read'),
  });
  private knownPeers = new Map<string, string>();
  /** When each peer was last heard from (performance.now()), for status and membership. */
  private readonly lastHeard = new Map<NodeId, number>();

  /** Membership calls: the leader's rules and forwarding to the leader. */
  private readonly membership: Membership;
  private readonly clusterClient = new ClusterClient();
  /** Conditions waited on by membership calls, checked as the node makes progress. */
  private readonly conditions = new Set<{ check: () => boolean; done: (ok: boolean) => void }>();
  /** Once this node has seen itself in the configuration (so leaving it means removal). */
  private wasMember = false;
  /** The configuration the leader reported when it told us we were removed; null until then. */
  private removedMembers: MemberStatus[] | null = null;
  /** Ticks without a known leader: past a few election timeouts, ask whether we are still a member. */
  private leaderlessTicks = 0;
  private askingMembership = false;

  constructor(private readonly opts: RaftNodeOptions) {
    this.store = opts.store;
    // A write nobody awaited (applied state, a commit index) failed: stop as any write failure does.
    this.store.onFatal = (e) => this.fail(e);
    this.transport = opts.transport;
    this.log = opts.log;
    this.membership = new Membership({
      nodeId: opts.nodeId,
      clusterId: opts.clusterId,
      client: this.clusterClient,
      log: opts.log,
      raw: () => this.raw,
      records: () => this.store.memberAddresses(),
      heardFrom: (id) => performance.now() - (this.lastHeard.get(id) ?? -Infinity) < this.electionTimeoutMs(),
      waitUntil: (check, deadlineMs) => this.waitUntil(check, deadlineMs),
      schedulePump: () => this.schedulePump(),
      checkServing: () => this.checkServing(),
    });
    this.observer = opts.observer ?? NO_NODE_OBSERVER;
    if (this.observer.onAppendRoundTrip) this.appendTimer = new AppendTimer();
    if (this.observer.onAppendAnswered) this.answerTimer = new AppendTimer();
  }

  /** Bootstrap the log on a fresh store, build the core from storage, connect to peers and start ticking. */
  async start(): Promise<void> {
    if (this.store.log.lastIndex() === 0 && this.opts.founders.length > 0) {
      // A fresh node of the founding cluster: write the initial membership (with addresses) into the log.
      const contexts = new Map(this.opts.founders.map((f) => [f.id, encoder.encode(f.address)]));
      const boot = bootstrapLog(
        this.opts.founders.map((f) => f.id),
        contexts,
      );
      await this.store.persist({ hardState: boot.hardState, entries: boot.entries, snapshot: null });
      this.log.info({ members: this.opts.founders.map((f) => f.id) }, 'bootstrapped a new cluster');
    }
    this.raw = new RawNode({
      id: this.opts.nodeId,
      storage: this.store.log,
      rng: new Prng(randomBytes(4).readUInt32LE(0)),
      electionTicks: this.opts.electionTicks,
      heartbeatTicks: this.opts.heartbeatTicks,
      applied: this.store.appliedIndex(),
      maxMsgEntries: 1024,
      maxMsgBytes: 2 * 1024 * 1024,
      maxInflightMsgs: 256,
      maxApplyBytes: 16 * 1024 * 1024,
      preVote: true,
      checkQuorum: true,
    });
    for (const p of this.opts.joinPeers ?? []) {
      if (p.id === this.opts.nodeId || p.address === '') continue;
      this.transport.setPeer(p.id, p.address);
      this.knownPeers.set(p.id, p.address);
    }
    this.refreshPeers();
    this.noteMembership();
    this.ticker = setInterval(() => this.tick(), this.opts.tickMs);
    this.ticker.unref();
    this.schedulePump();
  }

  private tick(): void {
    if (this.stopped || this.fatal) return;
    // A removed node stays passive: no elections, no messages to the cluster it left.
    if (this.isRemoved()) return;
    this.raw.tick();
    this.schedulePump();
    this.checkConditions();
    this.membership.maybePromote(Date.now() + this.opts.tickMs * this.opts.electionTicks * 5);
    this.watchForRemoval();
  }

  // ---- membership ---------------------------------------------------------------------------

  /** Whether this node knows it was removed from the cluster. */
  private isRemoved(): boolean {
    return this.removedMembers !== null || (this.wasMember && !this.inConfig());
  }

  private inConfig(): boolean {
    const r = this.raw.raft;
    return r.voters.has(this.opts.nodeId) || r.learners.has(this.opts.nodeId);
  }

  /** Remember that we are (or were) in the configuration; log the moment we leave it. */
  private noteMembership(): void {
    if (this.inConfig()) {
      this.wasMember = true;
    } else if (this.wasMember) {
      this.log.warn({}, 'this node was removed from the cluster: it stays passive until shut down');
    }
  }

  /**
   * A removed node may never see its removal committed (the leader stops replicating to it
   * once the change applies). After a few election timeouts without a leader, ask the others
   * (any member forwards to the leader); if the leader's configuration lacks us, we are removed.
   */
  private watchForRemoval(): void {
    if (this.raw.leader() !== '' || !this.wasMember) {
      this.leaderlessTicks = 0;
      return;
    }
    this.leaderlessTicks++;
    if (this.askingMembership || this.leaderlessTicks < 3 * this.opts.electionTicks) return;
    this.leaderlessTicks = 0;
    this.askingMembership = true;
    const deadlineMs = Date.now() + this.opts.tickMs * this.opts.electionTicks;
    const peers = [...this.knownPeers.values()];
    void (async () => {
      for (const address of peers) {
        try {
          const list = await this.clusterClient.memberList(address, deadlineMs, false);
          if (list.leaderId !== '' && !list.members.some((m) => m.id === this.opts.nodeId)) {
            this.removedMembers = list.members;
            this.log.warn(
              { leader: list.leaderId },
              'the leader no longer lists this node as a member: it stays passive until shut down',
            );
          }
          return;
        } catch {
          // That peer is down or knows no leader either: ask the next one.
        }
      }
    })().finally(() => {
      this.askingMembership = false;
    });
  }

  /** Resolve true once check() holds (tested after every Ready and tick), false at deadlineMs. */
  private waitUntil(check: () => boolean, deadlineMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = {
        check,
        done: (ok: boolean) => {
          clearTimeout(timer);
          this.conditions.delete(entry);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => entry.done(false), Math.max(0, deadlineMs - Date.now()));
      this.conditions.add(entry);
    });
  }

  private checkConditions(): void {
    for (const c of [...this.conditions]) if (c.check()) c.done(true);
  }

  memberList(deadlineMs: number, opts?: CallOptions): Promise<MemberListResult> {
    return this.membership.memberList(deadlineMs, opts);
  }

  memberAdd(
    id: string,
    address: string,
    learner: boolean,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<MemberAddResult> {
    return this.membership.memberAdd(id, address, learner, deadlineMs, opts);
  }

  memberRemove(id: string, deadlineMs: number, opts?: CallOptions): Promise<{ members: MemberStatus[] }> {
    return this.membership.memberRemove(id, deadlineMs, opts);
  }

  transferLeadership(
    targetId: string,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<{ leaderId: string; term: number }> {
    return this.membership.transferLeadership(targetId, deadlineMs, opts);
  }

  /** Answer, then shut down as on SIGTERM (the callback main gave), once the reply has left. */
  async shutdown(): Promise<{ nodeId: string }> {
    this.checkServing();
    setTimeout(() => {
      if (this.opts.onShutdown) this.opts.onShutdown();
      else void this.stop();
    }, 100);
    return { nodeId: this.opts.nodeId };
  }

  private electionTimeoutMs(): number {
    return this.opts.tickMs * this.opts.electionTicks;
  }

  // ---- transport input --------------------------------------------------------------------

  /** Messages from peers (TransportHandlers.onMessages). */
  receive(msgs: Message[]): void {
    if (this.stopped || !this.raw) return;
    const now = performance.now();
    for (const m of msgs) this.lastHeard.set(m.from, now);
    // As leader: the acknowledgements end the round trips of the appends they cover.
    this.appendTimer?.endWithAcks(msgs, 'from', this.reportRoundTrip);
    // As follower: the appends start the wait that this node's acknowledgements will end.
    this.answerTimer?.startAppends(msgs, 'from');
    for (const m of msgs) {
      try {
        this.raw.step(m);
      } catch (e) {
        this.log.warn(
          { err: e, type: MessageType[m.type], from: m.from },
          'dropped a message the core refused',
        );
      }
    }
    this.schedulePump();
  }

  /** A peer could not be reached (TransportHandlers.onUnreachable). */
  unreachable(peer: NodeId): void {
    if (this.stopped || !this.raw) return;
    this.raw.reportUnreachable(peer);
    this.schedulePump();
  }

  // ---- the loop -----------------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Take every Ready there is and start its write at once: writes overlap (up to
   * MAX_WRITES_IN_FLIGHT), land in the order issued, and finish in that order.
   */
  private pump(): void {
    if (this.fatal || this.stopped) return;
    try {
      while (this.writesInFlight < MAX_WRITES_IN_FLIGHT && this.raw.hasReady())
        this.startReady(this.raw.ready());
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private startReady(rd: Ready): void {
    if (rd.softState) this.onRoleChange(rd.softState.role, rd.softState.leader);
    // A leader's appends and heartbeats may leave before its own fsync (Raft thesis §10.2.1):
    // the core counts the leader's own log towards commit only once persisted(rd) says so.
    // Everything else waits for the write: it may acknowledge what is written.
    const early: Message[] = [];
    const late: Message[] = [];
    const snapshots: Message[] = [];
    for (const m of rd.messages) {
      if (m.type === MessageType.Snap) snapshots.push(m);
      else if (m.type === MessageType.App || m.type === MessageType.Heartbeat) early.push(m);
      else late.push(m);
    }
    if (early.length > 0) {
      if (this.raw.isLeader()) this.appendTimer?.startAppends(early, 'to');
      this.transport.send(early);
    }
    // Persist in this turn's group commit; apply what is committed. The store waits for the fsync
    // for new entries, a snapshot or a new term/vote; a commit-index-only change rides with a later
    // write (Raft recovers it). Issued now, so the store sees writes in the order the core handed them out.
    const write = this.store.writeReady({
      hardState: rd.hardState,
      entries: rd.entries,
      snapshot: rd.snapshot ? { meta: rd.snapshot.meta, data: rd.snapshot.data } : null,
      apply: rd.committedEntries,
      onLoop: this.nothingToOverlap(),
    });
    // Applied in memory already (visible to reads): answer now, not after earlier writes' fsyncs.
    // A reply rests on the entry being committed, i.e. durable in a majority of logs.
    if (write.applied) this.answerApplied(rd, write.applied);
    write.written.catch(() => {}); // observed in order below; this only keeps Node from calling it unhandled
    this.writesInFlight++;
    const held =
      rd.entries.length > 0 && this.raw.isLeader() ? this.appendHold.started(rd.entries.at(-1)!.index) : null;
    if (rd.committedEntries.length > 0 && this.appendHold.committed(rd.committedEntries.at(-1)!.index))
      this.maybeFlushProposals();
    this.finished = this.finished
      .then(async () => {
        if (this.fatal) return;
        const results = await write.written;
        if (this.fatal) return;
        if (!write.applied) this.answerApplied(rd, results);
        this.finishReady(rd, late, snapshots);
        this.maybeCompact();
      })
      .catch((e: unknown) => this.fail(e as Error))
      .finally(() => {
        this.writesInFlight--;
        if (held && this.appendHold.written(held)) this.maybeFlushProposals();
        this.schedulePump();
      });
  }

  /**
   * Whether a write may hold the event loop for its fsync: on a follower no client request is
   * waiting on (no forwarded write, no linearizable read). Such a follower has nothing to do while
   * its disk syncs but take in the next append, which the block batches; lmdb-js's writer-thread
   * round trips cost it about a third of its busy time under load (put at 16 and 64 connections,
   * three interleaved pairs each: 14-24% less CPU per write for the cluster, more writes/s).
   * A serializable read arriving meanwhile waits for that one fsync. A leader always has requests
   * to parse and replicate while its disk syncs, so it keeps the write queue's weight rule.
   */
  private nothingToOverlap(): boolean {
    return !this.raw.isLeader() && this.writes.size() === 0 && !this.reads.busy();
  }

  /** Answer the writes proposed here that rd's committed entries carried, and reads now applied. */
  private answerApplied(rd: Ready, results: ApplyResult[]): void {
    for (let i = 0; i < rd.committedEntries.length; i++) {
      const r = results[i]!;
      if (r.requestId !== null && r.result !== null) this.writes.resolve(r.requestId, r.result);
    }
    this.reads.appliedMoved();
  }

  /** rd's write is done: send what waited for it, and tell the core (in order). */
  private finishReady(rd: Ready, late: Message[], snapshots: Message[]): void {
    if (rd.snapshot) {
      this.log.info({ index: rd.snapshot.meta.index }, 'installed a snapshot from the leader');
      this.observer.onSnapshotInstalled?.();
      this.refreshPeers();
    }
    if (late.length > 0) {
      this.answerTimer?.endWithAcks(late, 'to', this.reportAnswer);
      this.transport.send(late);
    }
    for (const m of snapshots) this.sendSnapshot(m);
    const membershipChanged = rd.committedEntries.some((e) => e.type === EntryType.ConfChange);
    // Read points.
    for (const rs of rd.readStates) this.reads.answered(rs.context, rs.index);
    this.raw.persisted(rd);
    this.raw.applied(rd);
    if (membershipChanged || rd.snapshot) {
      this.refreshPeers();
      this.noteMembership();
    }
    // Reads waiting for the applied index were released by answerApplied, when it moved.
    this.checkConditions();
  }

  private sendSnapshot(m: Message): void {
    const to = m.to;
    let chunks: AsyncIterableIterator<Uint8Array>;
    try {
      // The core named the snapshot as of when it decided; send the store's state as of now, whose
      // metadata and data are read together (the leader accepts a newer snapshot's acknowledgement).
      const meta = this.store.log.snapshot().meta;
      chunks = this.store.snapshotChunks(meta.index, this.opts.snapshotChunkBytes);
      m = { ...m, snapshot: { meta, data: new Uint8Array(0) } };
    } catch (e) {
      this.log.warn({ err: e, to }, 'could not open a snapshot to send');
      this.raw.reportSnapshot(to, false);
      return;
    }
    this.log.info({ to, index: m.snapshot!.meta.index }, 'sending a snapshot');
    this.transport.sendSnapshot(m, chunks).then(
      () => {
        this.observer.onSnapshotSent?.(true);
        this.raw.reportSnapshot(to, true);
        this.schedulePump();
      },
      (e: unknown) => {
        void chunks.return?.();
        this.log.warn({ err: e, to }, 'sending a snapshot failed');
        this.observer.onSnapshotSent?.(false);
        this.raw.reportSnapshot(to, false);
        this.schedulePump();
      },
    );
  }

  /**
   * Once the log holds snapshotThreshold applied entries, compact it to compactKeepEntries
   * behind the applied index: one step of COMPACT_STEP_ENTRIES at a time, outside the chain of
   * Readys (the store keeps writes in order; no Ready waits for a step), the next step when one
   * is done.
   */
  private maybeCompact(): void {
    if (this.compaction !== null || this.fatal || this.stopped) return;
    const first = this.store.log.firstIndex();
    if (first > this.compactTarget) {
      // The commit index bounds the applied index and costs no storage read: most Readys stop here.
      if (this.raw.raft.log.committed - first + 1 < this.opts.snapshotThreshold) return;
      const applied = this.store.appliedIndex();
      if (applied - first + 1 < this.opts.snapshotThreshold) return;
      this.compactTarget = applied - this.opts.compactKeepEntries;
      if (this.compactTarget < first) return;
    }
    const upTo = Math.min(this.compactTarget, first + COMPACT_STEP_ENTRIES - 1);
    this.compaction = this.store.compact(upTo).then(
      () => {
        this.compaction = null;
        this.log.debug({ upTo, target: this.compactTarget }, 'compacted the log');
        try {
          this.maybeCompact();
        } catch (e) {
          this.fail(e as Error);
        }
      },
      (e: unknown) => {
        this.compaction = null;
        if (!this.stopped) this.fail(e as Error);
      },
    );
  }

  private onRoleChange(role: Role, leader: NodeId): void {
    this.log.info({ role, leader, term: this.raw.raft.term }, 'raft state changed');
    this.observer.onSoftState?.(role, leader, this.raw.raft.term);
    this.appendTimer?.forget();
    this.answerTimer?.forget();
  }

  private refreshPeers(): void {
    const addresses = new Map<string, string>();
    for (const [id, record] of this.store.memberAddresses())
      addresses.set(id, parseMemberRecord(record).address);
    // A joining node knows no membership until the leader sends it: keep the peers it was given.
    if (addresses.size === 0) return;
    for (const [id, address] of addresses) {
      if (id === this.opts.nodeId || address === '') continue;
      if (this.knownPeers.get(id) !== address) {
        this.transport.setPeer(id, address);
        this.knownPeers.set(id, address);
      }
    }
    for (const id of [...this.knownPeers.keys()]) {
      if (!addresses.has(id)) {
        this.transport.removePeer(id);
        this.knownPeers.delete(id);
      }
    }
  }

  private fail(e: Error): void {
    // Storage or core invariant broken (e.g. a corrupt log entry): stop serving rather than serve wrong data.
    this.fatal = e;
    this.log.error({ err: e }, 'node stopped: unrecoverable error');
    const err =
      e instanceof DkvError
        ? e
        : new DkvError(ErrorCode.Internal, `node stopped after an internal error: ${e.message}`);
    this.writes.rejectAll(err);
    this.reads.rejectAll(err);
  }

  // ---- writes -------------------------------------------------------------------------------

  private checkServing(): void {
    if (this.fatal) throw new DkvError(ErrorCode.Unavailable, `node stopped: ${this.fatal.message}`);
    if (this.stopped) throw unavailable('node is shutting down');
  }

  private propose(command: Command, deadlineMs: number): Promise<CommandResult> {
    this.checkServing();
    const id = `${this.opts.nodeId}:${this.bootNonce}:${this.nextRequest++}`;
    const done = this.writes.add(id, deadlineMs, () => this.timeoutError('write'));
    this.pendingProposals.push({ id, data: encodeRequest({ id, command }) });
    this.maybeFlushProposals();
    return done;
  }

  /** Propose what is pending on the next check phase, unless the leader's appends are backed up. */
  private maybeFlushProposals(): void {
    if (this.proposalFlushScheduled || this.pendingProposals.length === 0) return;
    // Resumed as an append is committed or written.
    if (this.appendHold.holds(this.writes.size())) return;
    this.proposalFlushScheduled = true;
    setImmediate(() => this.flushProposals());
  }

  private flushProposals(): void {
    this.proposalFlushScheduled = false;
    const batch = this.pendingProposals;
    this.pendingProposals = [];
    if (batch.length === 0) return;
    try {
      this.raw.proposeEntries(
        batch.map((p) => ({ term: 0, index: 0, type: EntryType.Normal, data: p.data })),
      );
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      const err = unavailable(this.noLeaderReason(e.message));
      for (const p of batch) this.writes.reject(p.id, err);
      return;
    }
    // Already in a check phase: take the Ready now rather than one event-loop turn later.
    this.pump();
  }

  private noLeaderReason(detail: string): string {
    const leader = this.raw.leader();
    return leader === '' ? `no leader: ${detail}` : `request not accepted (leader ${leader}): ${detail}`;
  }

  private timeoutError(what: string): DkvError {
    // Past the deadline without an answer: the usual cause is that no quorum is reachable from here.
    const leader = this.raw.leader();
    const why =
      leader === ''
        ? 'no leader is known (election in progress or no quorum reachable)'
        : leader === this.opts.nodeId
          ? 'this leader could not reach a quorum in time'
          : `leader ${leader} did not confirm it in time (unreachable or no quorum)`;
    return unavailable(
      `${what} not confirmed before the deadline: ${why}${what === 'write' ? '; its outcome is unknown' : ''}`,
    );
  }

  async put(key: Buffer, value: Buffer, deadlineMs: number): Promise<{ revision: number }> {
    const start = performance.now();
    const r = await this.propose({ op: 'put', key, value }, deadlineMs);
    this.observer.onProposalApplied?.(performance.now() - start);
    return { revision: r.revision };
  }

  async delete(key: Buffer, deadlineMs: number): Promise<{ deleted: boolean; revision: number }> {
    const start = performance.now();
    const r = await this.propose({ op: 'delete', key }, deadlineMs);
    this.observer.onProposalApplied?.(performance.now() - start);
    if (r.op !== 'delete') throw new Error('delete: unexpected result');
    return { deleted: r.deleted, revision: r.revision };
  }

  async compareAndSwap(
    key: Buffer,
    expected: Buffer | null,
    value: Buffer,
    deadlineMs: number,
  ): Promise<{ swapped: boolean; revision: number; current: Buffer | null }> {
    const start = performance.now();
    const r = await this.propose({ op: 'cas', key, expected, value }, deadlineMs);
    this.observer.onProposalApplied?.(performance.now() - start);
    if (r.op !== 'cas') throw new Error('cas: unexpected result');
    return { swapped: r.swapped, revision: r.revision, current: r.current };
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Wait until a read at this moment is linearizable: a ReadIndex round, then local apply catches up. */
  private linearizableBarrier(deadlineMs: number): Promise<void> {
    this.checkServing();
    return this.reads.wait(deadlineMs);
  }

  /** A serializable read: refused if this node cannot serve; answered with the turn's other reads. */
  private async serializableBarrier(): Promise<void> {
    this.checkServing();
    await this.turnEnd.wait();
    this.checkServing();
  }

  async get(
    key: Buffer,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kv: KeyValue | null; revision: number }> {
    if (consistency === ReadConsistency.Linearizable) await this.linearizableBarrier(deadlineMs);
    else await this.serializableBarrier();
    const v = this.store.get(key);
    const revision = this.store.appliedIndex();
    return { kv: v ? { key, value: v.value, modRevision: v.modRevision } : null, revision };
  }

  async range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kvs: KeyValue[]; more: boolean; revision: number }> {
    if (consistency === ReadConsistency.Linearizable) await this.linearizableBarrier(deadlineMs);
    else await this.serializableBarrier();
    const r = this.store.range(prefix, startAfter, limit);
    return {
      kvs: r.kvs.map((x) => ({ key: x.key, value: x.value.value, modRevision: x.value.modRevision })),
      more: r.more,
      revision: this.store.appliedIndex(),
    };
  }

  // ---- status and shutdown ------------------------------------------------------------------

  status(): NodeStatus {
    const st = this.raw.status();
    const removed = this.isRemoved();
    // A node that learned of its removal from the leader reports the leader's configuration.
    const members = this.removedMembers ?? this.membership.members(st);
    return {
      nodeId: st.id,
      role: st.role,
      learner: st.confState.learners.includes(st.id),
      term: st.term,
      leaderId: st.leader,
      commitIndex: st.commit,
      appliedIndex: this.store.appliedIndex(),
      lastIndex: st.lastIndex,
      firstIndex: this.store.log.firstIndex(),
      members,
      removed,
    };
  }

  /** Whether this node currently leads. */
  isLeader(): boolean {
    return this.raw.isLeader();
  }

  /**
   * Stop: no new requests, let the Ready in progress finish (so what was
   * persisted is consistent), fail what is still waiting, close the transport.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.finished;
    await this.compaction;
    const err = unavailable('node is shutting down');
    this.writes.rejectAll(err);
    this.reads.rejectAll(err);
    for (const c of [...this.conditions]) c.done(false);
    this.clusterClient.close();
    await this.transport.close();
  }
}
