/**
 * The node's metrics: Raft state gauges read from the node's status at
 * scrape time, and the events the node and its store report through their
 * observers (leader changes, proposal, fsync and apply durations, snapshots).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeStatus } from '../api/backend.js';
import { readiness } from '../api/readiness.js';
import type { NodeObserver } from '../node/node-observer.js';
import { Role } from '../raft/index.js';
import type { StoreObserver } from '../storage/store-observer.js';
import { APPLY_BUCKETS_SECONDS, FSYNC_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS } from './buckets.js';
import { type CounterSeries, FastCounter, FastHistogram, type HistogramSeries } from './fast-metrics.js';

/** The values of dkv_raft_role's `role` label. */
export const ROLE_LABELS = ['follower', 'pre-candidate', 'candidate', 'leader', 'learner'] as const;

/** The role label of a status: a learner is reported as such whatever its core role. */
function roleLabel(status: NodeStatus): (typeof ROLE_LABELS)[number] {
  if (status.learner) return 'learner';
  switch (status.role) {
    case Role.Leader:
      return 'leader';
    case Role.Candidate:
      return 'candidate';
    case Role.PreCandidate:
      return 'pre-candidate';
    default:
      return 'follower';
  }
}

/** The node's metrics on one registry, with the observers to hand to the node and its store. */
export class NodeMetrics {
  private readonly term: Gauge;
  private readonly role: Gauge<'role'>;
  private readonly isLeader: Gauge;
  private readonly hasLeader: Gauge;
  private readonly ready: Gauge;
  private readonly commitIndex: Gauge;
  private readonly appliedIndex: Gauge;
  private readonly lastLogIndex: Gauge;
  private readonly firstLogIndex: Gauge;
  private readonly leaderChanges: Counter;
  // Observed per client write, per append and per commit: fast-metrics.ts's, not prom-client's
  // (whose labelled observe hashed its labels each time: 1.2% of a busy leader's time went to
  // timing the followers' acknowledgements alone).
  private readonly proposalSeconds: HistogramSeries;
  private readonly fsyncSeconds: HistogramSeries;
  private readonly appendRoundTripSeconds: FastHistogram;
  private readonly roundTripOf = new Map<string, HistogramSeries>();
  private readonly appendAnswerSeconds: HistogramSeries;
  private readonly applySeconds: HistogramSeries;
  private readonly appliedEntries: CounterSeries;
  private readonly snapshotsSent: Counter<'result'>;
  private readonly snapshotsInstalled: Counter;
  /** The last leader seen and its term: a different pair is a leader change. */
  private lastLeader = '';
  private lastLeaderTerm = -1;

  /** Told by the node; pass as RaftNodeOptions.observer. */
  readonly nodeObserver: NodeObserver;
  /** Told by the store; assign to the store's observer. */
  readonly storeObserver: StoreObserver;

  constructor(register: Registry) {
    const registers = [register];
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.term = gauge('dkv_raft_term', 'Current Raft term of this node.');
    this.role = new Gauge({
      name: 'dkv_raft_role',
      help: "This node's Raft role: 1 for the current role, 0 for the others.",
      labelNames: ['role'],
      registers,
    });
    for (const r of ROLE_LABELS) this.role.set({ role: r }, 0);
    this.isLeader = gauge('dkv_raft_is_leader', '1 if this node is the leader, else 0.');
    this.hasLeader = gauge('dkv_raft_has_leader', '1 if this node knows a leader, else 0.');
    this.ready = gauge(
      'dkv_ready',
      '1 if this node is ready to serve clients (what /readyz reports), else 0.',
    );
    this.commitIndex = gauge('dkv_raft_commit_index', 'Highest log index this node knows to be committed.');
    this.appliedIndex = gauge('dkv_raft_applied_index', 'Highest log index applied to the key-value store.');
    this.lastLogIndex = gauge('dkv_raft_last_log_index', "Index of the last entry in this node's log.");
    this.firstLogIndex = gauge(
      'dkv_raft_first_log_index',
      "Index of the first entry still in this node's log (compaction moves it forward).",
    );
    this.leaderChanges = new Counter({
      name: 'dkv_raft_leader_changes_total',
      help: 'Leaders seen by this node: a new leader, or a new term of the same one (the first counts too).',
      registers,
    });
    this.proposalSeconds = new FastHistogram(
      'dkv_proposal_duration_seconds',
      'Client writes (put, delete, compare-and-swap) made on this node: from arrival to applied and answered.',
      LATENCY_BUCKETS_SECONDS,
      registers,
    ).child();
    this.fsyncSeconds = new FastHistogram(
      'dkv_storage_fsync_duration_seconds',
      'Durable storage transactions (one group commit of log entries, hard state or a snapshot), fsync included.',
      FSYNC_BUCKETS_SECONDS,
      registers,
    ).child();
    this.appendRoundTripSeconds = new FastHistogram(
      'dkv_raft_append_round_trip_seconds',
      "As leader: from an append leaving for a follower to that follower's acknowledgement of it (both hops and the follower's durable write), by follower.",
      FSYNC_BUCKETS_SECONDS,
      registers,
    );
    this.appendAnswerSeconds = new FastHistogram(
      'dkv_raft_append_answer_seconds',
      "As follower: from reading an append to sending its acknowledgement (the wait for the event loop and the durable write). The leader's dkv_raft_append_round_trip_seconds less this is what the network and the leader's own loop added.",
      FSYNC_BUCKETS_SECONDS,
      registers,
    ).child();
    const commits = new FastCounter(
      'dkv_storage_commits_total',
      'Storage write transactions committed, by the thread that committed them: the event loop (blocked for the fsync) or the writer thread.',
      registers,
    );
    this.applySeconds = new FastHistogram(
      'dkv_apply_duration_seconds',
      'Applying one batch of committed entries to the key-value store.',
      APPLY_BUCKETS_SECONDS,
      registers,
    ).child();
    this.appliedEntries = new FastCounter(
      'dkv_applied_entries_total',
      'Committed entries applied to the key-value store since start.',
      registers,
    ).child();
    this.snapshotsSent = new Counter({
      name: 'dkv_snapshots_sent_total',
      help: 'Snapshots this node sent to followers, by result (ok or failed).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['ok', 'failed']) this.snapshotsSent.inc({ result }, 0);
    this.snapshotsInstalled = new Counter({
      name: 'dkv_snapshots_received_total',
      help: 'Snapshots this node received from the leader and installed.',
      registers,
    });

    const sent = { ok: this.snapshotsSent.labels('ok'), failed: this.snapshotsSent.labels('failed') };
    this.nodeObserver = {
      onSoftState: (_role, leader, term) => {
        if (leader === '' || (leader === this.lastLeader && term === this.lastLeaderTerm)) return;
        this.lastLeader = leader;
        this.lastLeaderTerm = term;
        this.leaderChanges.inc();
      },
      onProposalApplied: (ms) => this.proposalSeconds.observe(ms / 1000),
      onAppendRoundTrip: (peer, ms) => this.roundTrip(peer).observe(ms / 1000),
      onAppendAnswered: (ms) => this.appendAnswerSeconds.observe(ms / 1000),
      onSnapshotSent: (ok) => (ok ? sent.ok : sent.failed).inc(),
      onSnapshotInstalled: () => this.snapshotsInstalled.inc(),
    };
    const commitsOn = {
      event_loop: commits.child({ thread: 'event_loop' }),
      writer: commits.child({ thread: 'writer' }),
    };
    this.storeObserver = {
      onCommit: (thread) => commitsOn[thread].inc(),
      onDurableWrite: (ms) => this.fsyncSeconds.observe(ms / 1000),
      onApply: (entries, ms) => {
        this.applySeconds.observe(ms / 1000);
        this.appliedEntries.inc(entries);
      },
    };
  }

  /** The round-trip series of follower `peer`, made on its first append. */
  private roundTrip(peer: string): HistogramSeries {
    let series = this.roundTripOf.get(peer);
    if (series === undefined) {
      series = this.appendRoundTripSeconds.child({ peer });
      this.roundTripOf.set(peer, series);
    }
    return series;
  }

  /** Set the state gauges from the node's status (at scrape time). */
  update(status: NodeStatus): void {
    this.term.set(status.term);
    const current = roleLabel(status);
    for (const r of ROLE_LABELS) this.role.set({ role: r }, r === current ? 1 : 0);
    this.isLeader.set(current === 'leader' ? 1 : 0);
    this.hasLeader.set(status.leaderId === '' ? 0 : 1);
    this.ready.set(readiness(status).ready ? 1 : 0);
    this.commitIndex.set(status.commitIndex);
    this.appliedIndex.set(status.appliedIndex);
    this.lastLogIndex.set(status.lastIndex);
    this.firstLogIndex.set(status.firstIndex);
  }
}
