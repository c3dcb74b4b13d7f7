import {
  ConfChangeType,
  EMPTY_BYTES,
  type Message,
  MessageType,
  type NodeId,
  Prng,
  ProposalDroppedError,
  type Ready,
  Role,
} from '../../src/raft/index.js';
import { SafetyCheckers } from './checkers.js';
import { encodeCommand } from './kv-state-machine.js';
import { checkLinearizable, type HistoryOp } from './linearizability.js';
import { type NetworkFaults, SimNetwork } from './network.js';
import { SimNode, type SimRaftOptions } from './sim-node.js';

/** What one seeded run is made of. */
export interface SimOptions {
  /** Founding voters: 3 or 5. */
  nodes: number;
  /** Simulated milliseconds of the fault phase. */
  faultPhaseMs: number;
  /** Upper bound for the liveness phase: a healed cluster must converge within it. */
  livenessBoundMs: number;
  clients: number;
  /** Receives a line per notable event (faults, elections, persists, applies, messages): for replaying a seed. */
  trace?: (line: string) => void;
}

/** The figures and verdict of one seeded run. */
export interface SimResult {
  seed: number;
  /** Simulated Raft ticks (one per node per tick interval). */
  ticks: number;
  simulatedMs: number;
  clientOps: number;
  acknowledgedWrites: number;
  faults: number;
  faultsByKind: Record<string, number>;
  elections: number;
  snapshotsSent: number;
  violations: string[];
}

/** Milliseconds between ticks of one node. */
const TICK_MS = 10;
const KEYS = ['x', 'y', 'z'];

/** The default shape of a run, used by the test suite and `npm run sim`. */
export const DEFAULT_SIM: SimOptions = { nodes: 3, faultPhaseMs: 6000, livenessBoundMs: 6000, clients: 4 };

/** The run a seed stands for: every third seed simulates five founding voters, the rest three. */
export function optionsForSeed(seed: number): SimOptions {
  return { ...DEFAULT_SIM, nodes: seed % 3 === 0 ? 5 : 3 };
}

/** Run one seeded simulation: a fault phase (safety), then heal and check liveness; never throws. */
export function runSimulation(seed: number, options: SimOptions = optionsForSeed(seed)): SimResult {
  const sim = new Simulation(seed, options);
  try {
    sim.run();
  } catch (e) {
    sim.checkers.violations.push(`exception at t=${sim.now}: ${(e as Error).stack ?? String(e)}`);
  }
  return sim.result();
}

interface ClientState {
  id: number;
  busy: boolean;
  nextAt: number;
}

interface OpenOp {
  hist: HistoryOp;
  node: NodeId;
  client: ClientState;
  deadline: number;
}

class Simulation {
  now = 0;
  readonly checkers = new SafetyCheckers();
  private readonly rng: Prng;
  private readonly faultRng: Prng;
  private readonly clientRng: Prng;
  private readonly net: SimNetwork;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly raftOptions: SimRaftOptions;
  private readonly history: HistoryOp[] = [];
  private readonly open = new Map<number, OpenOp>();
  /** When each client write was first applied by any node: its effect happened by then. */
  private readonly firstApplied = new Map<number, number>();
  private readonly clients: ClientState[] = [];
  private nextOpId = 1;
  private nextNodeNo: number;
  private ticks = 0;
  private faults = 0;
  private readonly faultsByKind: Record<string, number> = {};
  private snapshotsSent = 0;
  private nextFaultAt = 0;
  private healAt = -1;
  private readonly compactEvery: number;
  /** How often faults strike: [minimum gap, random extra] in ms; some seeds get a storm. */
  private readonly faultGap: [number, number];
  /** Chance that a newly elected leader is struck (crashed or cut off) within a few ms: breeds Figure 8 histories. */
  private readonly leaderStrikeRate: number;
  /** Chance that a leader is struck right after it advances its commit index, before followers hear of it. */
  private readonly commitStrikeRate: number;
  private readonly leadersSeen = new Set<string>();
  private readonly strikes: { at: number; id: NodeId; term: number }[] = [];
  /** How many Readies a node may be writing at once (1: strictly one after another). */
  private readonly pipelineDepth: number;
  /** Longest a crashed node stays down. */
  private readonly maxDowntime: number;
  private readonly baseFaults: NetworkFaults;
  private faultPhase = true;

  constructor(
    readonly seed: number,
    private readonly options: SimOptions,
  ) {
    this.rng = new Prng(seed);
    this.faultRng = new Prng(this.rng.nextUint32());
    this.clientRng = new Prng(this.rng.nextUint32());
    const pick = <T>(xs: T[]): T => this.rng.pick(xs);
    this.baseFaults = {
      dropRate: pick([0, 0.01, 0.05, 0.15]),
      duplicateRate: pick([0, 0.02, 0.1]),
      minDelay: 1,
      maxDelay: pick([3, 8, 15]),
      longDelayRate: pick([0, 0.02, 0.1]),
      longDelay: 150,
    };
    this.net = new SimNetwork(new Prng(this.rng.nextUint32()), { ...this.baseFaults });
    this.compactEvery = pick([8, 25, 80, 1_000_000]);
    this.faultGap = pick<[number, number]>([
      [100, 400],
      [30, 150],
      [10, 60],
    ]);
    this.maxDowntime = pick([800, 200, 60]);
    this.leaderStrikeRate = pick([0, 0, 0.3, 0.7]);
    this.pipelineDepth = pick([1, 2, 8]);
    this.commitStrikeRate = pick([0, 0, 0.05, 0.2]);
    this.raftOptions = {
      electionTicks: 10,
      heartbeatTicks: 2,
      maxMsgEntries: pick([1, 4, 64]),
      maxInflightMsgs: pick([1, 4, 64]),
      preVote: true,
      checkQuorum: true,
    };
    const founders: NodeId[] = [];
    for (let i = 1; i <= options.nodes; i++) founders.push(`n${i}`);
    this.nextNodeNo = options.nodes + 1;
    for (const id of founders) this.addNode(id, founders);
    for (let c = 0; c < options.clients; c++)
      this.clients.push({ id: c, busy: false, nextAt: this.clientRng.int(50) });
    this.nextFaultAt = 100 + this.faultRng.int(300);
  }

  private trace(what: () => string): void {
    if (this.options.trace) this.options.trace(`t=${this.now} ${what()}`);
  }

  private addNode(id: NodeId, founders: NodeId[] | null): SimNode {
    const n = new SimNode(id, (this.seed ^ hashId(id)) >>> 0, this.raftOptions, founders);
    this.nodes.set(id, n);
    return n;
  }

  run(): void {
    const end = this.options.faultPhaseMs;
    while (this.now < end) {
      this.stepTime();
      if (this.checkers.violations.length > 0) return;
    }
    this.beginLiveness();
    this.runLiveness();
    if (this.checkers.violations.length > 0) return;
    // Every op still open is indeterminate: its outcome was never reported.
    for (const o of this.open.values()) this.closeIndeterminate(o);
    const lin = checkLinearizable(this.resolveUnknownWrites());
    if (!lin.ok) {
      this.checkers.violations.push(
        `linearizability${lin.timedOut ? ' (search budget exceeded)' : ''}: key ${lin.key}\n${lin.explanation ?? ''}`,
      );
    }
  }

  /** Advance simulated time by one millisecond. */
  private stepTime(): void {
    const now = this.now;
    // 1. Deliver the messages due now.
    const due = this.net.due(now);
    for (const m of due.delivered) this.deliver(m);
    for (const m of due.lost) {
      if (m.type === MessageType.Snap) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
    }
    // 2. Finish fsyncs due now.
    for (const n of this.nodes.values()) {
      // Writes complete in the order they were issued (one writer, as LMDB).
      while (n.inflight.length > 0 && n.inflight[0]!.doneAt <= now)
        this.completeReady(n, n.inflight.shift()!.rd);
    }
    // 3. Tick nodes (each on its own phase so they do not move in lockstep).
    for (const n of this.nodes.values()) {
      if (n.isUp() && (now + hashId(n.id)) % TICK_MS === 0) {
        const before = n.raw!.raft.role;
        n.raw!.tick();
        if (n.raw!.raft.role !== before)
          this.trace(() => `${n.id} role ${before} -> ${n.raw!.raft.role} term ${n.raw!.raft.term} (tick)`);
        this.ticks++;
        this.checkers.observeRole(now, n.raw!);
      }
      if (!n.isUp() && n.downUntil >= 0 && n.downUntil <= now) {
        n.start();
        this.trace(
          () =>
            `${n.id} RESTARTED: last ${n.raw!.raft.log.lastIndex()} term ${n.raw!.raft.term} commit ${n.raw!.raft.log.committed}`,
        );
      }
    }
    // 4. Clients and faults.
    this.driveClients();
    this.expireOps();
    if (this.faultPhase) {
      this.injectFaults();
      this.strikeNewLeaders();
    }
    // 5. Hand out new Readies.
    for (const n of this.nodes.values()) this.pumpReady(n);
    if (this.net.inFlight > 100_000) {
      this.checkers.violations.push(`t=${now}: runaway: ${this.net.inFlight} messages in flight`);
    }
    if (now % 50 === 0) {
      const up = [...this.nodes.values()].filter((n) => n.isUp()).map((n) => n.raw!);
      this.checkers.checkLogMatching(now, up);
    }
    this.now++;
  }

  // ---- the driver: Ready -> persist -> send -> apply -> advance ---------------------------

  private pumpReady(n: SimNode): void {
    // Up to `pipelineDepth` Readies may be written at once, as the real driver's overlapping writes.
    while (n.isUp() && n.inflight.length < this.pipelineDepth && n.raw!.hasReady()) {
      const rd = n.raw!.ready();
      // As the real driver does: a leader's appends and heartbeats leave before its own fsync.
      const early = rd.messages.filter((m) => m.type === MessageType.App || m.type === MessageType.Heartbeat);
      if (early.length > 0) {
        this.sendAll(early);
        rd.messages = rd.messages.filter(
          (m) => m.type !== MessageType.App && m.type !== MessageType.Heartbeat,
        );
      }
      const needsDisk = rd.mustSync || rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
      const last = n.inflight[n.inflight.length - 1];
      if (needsDisk || last) {
        // A write finishes no earlier than the one before it.
        const doneAt = Math.max(last?.doneAt ?? 0, needsDisk ? this.now + 1 + this.rng.int(4) : this.now);
        n.inflight.push({ rd, doneAt });
        continue;
      }
      this.completeReady(n, rd);
    }
  }

  private completeReady(n: SimNode, rd: Ready): void {
    const raw = n.raw!;
    this.trace(
      () =>
        `${n.id} persist hs=${rd.hardState ? `${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}` : '-'} ` +
        `ents=${rd.entries.map((e) => `${e.index}@${e.term}`).join(',')}${rd.snapshot ? ` snap=${rd.snapshot.meta.index}@${rd.snapshot.meta.term}` : ''} ` +
        `apply=${rd.committedEntries.map((e) => `${e.index}@${e.term}`).join(',')} ` +
        `send=${rd.messages.map((m) => `${MessageType[m.type]}>${m.to}(t${m.term} i${m.index} lt${m.logTerm} n${m.entries.length} c${m.commit}${m.reject ? ' R' : ''})`).join(' ')}`,
    );
    // Persist (one atomic "transaction").
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.sm.restore(rd.snapshot.data, rd.snapshot.meta.index);
    }
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    n.storage.append(rd.entries);
    // Only now may messages leave: they may acknowledge what was just persisted.
    this.sendAll(rd.messages);
    // Apply.
    for (const e of rd.committedEntries) {
      this.checkers.observeApply(this.now, n.id, e, raw.raft.term);
      const op = n.sm.apply(e);
      if (op !== null && !this.firstApplied.has(op)) this.firstApplied.set(op, this.now);
      if (op !== null && n.pendingWrites.has(op)) {
        n.pendingWrites.delete(op);
        this.completeOp(op, undefined);
      }
    }
    for (const rs of rd.readStates) {
      const pr = n.pendingReads.get(contextText(rs.context));
      if (pr) pr.index = rs.index;
    }
    raw.advance(rd);
    if (
      this.faultPhase &&
      rd.hardState &&
      raw.raft.role === Role.Leader &&
      this.faultRng.chance(this.commitStrikeRate)
    ) {
      this.strikes.push({ at: this.now + this.faultRng.int(6), id: n.id, term: raw.raft.term });
    }
    this.checkers.observeRole(this.now, raw);
    this.serveReads(n);
    this.maybeCompact(n);
  }

  private sendAll(msgs: Message[]): void {
    for (const m of msgs) {
      const target = this.nodes.get(m.to);
      const sent = target !== undefined && this.net.send(m, this.now);
      if (m.type === MessageType.Snap) {
        this.snapshotsSent++;
        // The transport tells the leader how the snapshot went.
        if (!sent) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
      } else if (!sent && m.type === MessageType.App) {
        this.nodes.get(m.from)?.raw?.reportUnreachable(m.to);
      }
    }
  }

  private deliver(m: Message): void {
    const target = this.nodes.get(m.to);
    if (!target?.isUp()) {
      if (m.type === MessageType.Snap) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
      return;
    }
    this.trace(
      () =>
        `${m.to} <- ${MessageType[m.type]} from ${m.from} t${m.term} i${m.index} lt${m.logTerm} ents=${m.entries.map((e) => `${e.index}@${e.term}`).join(',')} c${m.commit}${m.reject ? ' reject' : ''}`,
    );
    const before = target.raw!.raft.role;
    target.raw!.step(m);
    if (target.raw!.raft.role !== before)
      this.trace(() => `${m.to} role ${before} -> ${target.raw!.raft.role} term ${target.raw!.raft.term}`);
    this.checkers.observeRole(this.now, target.raw!);
    if (m.type === MessageType.Snap) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, true);
  }

  private serveReads(n: SimNode): void {
    for (const [ctx, pr] of n.pendingReads) {
      if (pr.index !== undefined && n.sm.applied >= pr.index) {
        n.pendingReads.delete(ctx);
        this.completeOp(pr.opId, n.sm.kv.get(pr.key));
      }
    }
  }

  private maybeCompact(n: SimNode): void {
    const raw = n.raw!;
    if (n.sm.applied - n.storage.firstIndex() + 1 < this.compactEvery) return;
    // Snapshot exactly the applied state, with the membership as of that index.
    n.storage.createSnapshot(n.sm.applied, raw.raft.confState(), n.sm.snapshot());
    n.storage.compact(n.sm.applied - this.rng.int(3));
  }

  // ---- clients ----------------------------------------------------------------------------

  private driveClients(): void {
    if (!this.faultPhase) return;
    for (const c of this.clients) {
      if (c.busy || c.nextAt > this.now) continue;
      const up = [...this.nodes.values()].filter((n) => n.isUp());
      if (up.length === 0) continue;
      const n = this.clientRng.pick(up);
      const key = this.clientRng.pick(KEYS);
      const opId = this.nextOpId++;
      const isWrite = this.clientRng.chance(0.5);
      const hist: HistoryOp = isWrite
        ? {
            id: opId,
            client: c.id,
            op: { kind: 'put', key, value: `v${opId}` },
            call: this.now,
            ret: Infinity,
          }
        : { id: opId, client: c.id, op: { kind: 'get', key }, call: this.now, ret: Infinity };
      try {
        if (isWrite) {
          n.pendingWrites.add(opId);
          n.raw!.propose(encodeCommand({ op: opId, key, value: `v${opId}` }));
        } else {
          n.pendingReads.set(String(opId), { opId, key });
          n.raw!.readIndex(contextBytes(opId));
        }
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
        // Refused on the spot: certainly not in any log, so not part of the history.
        n.pendingWrites.delete(opId);
        n.pendingReads.delete(String(opId));
        c.nextAt = this.now + 5 + this.clientRng.int(20);
        continue;
      }
      c.busy = true;
      this.history.push(hist);
      this.open.set(opId, { hist, node: n.id, client: c, deadline: this.now + 300 });
    }
  }

  private completeOp(opId: number, result: string | undefined): void {
    const o = this.open.get(opId);
    if (!o) return; // the client gave up on it already
    this.open.delete(opId);
    o.hist.ret = this.now;
    if (o.hist.op.kind === 'get') o.hist.op.result = result;
    this.releaseClient(o.client);
  }

  private releaseClient(c: ClientState): void {
    c.busy = false;
    c.nextAt = this.now + this.clientRng.int(15);
  }

  private closeIndeterminate(o: OpenOp): void {
    this.open.delete(o.hist.id);
    if (o.hist.op.kind === 'get') {
      // A read nobody answered constrains nothing.
      const i = this.history.indexOf(o.hist);
      if (i >= 0) this.history.splice(i, 1);
    }
    this.releaseClient(o.client);
  }

  /** Time out ops whose node crashed or that took too long: their outcome stays unknown. */
  private expireOps(): void {
    for (const o of this.open.values()) {
      const n = this.nodes.get(o.node)!;
      if (o.deadline <= this.now || !n.isUp()) {
        n.pendingWrites.delete(o.hist.id);
        n.pendingReads.delete(String(o.hist.id));
        this.closeIndeterminate(o);
      }
    }
  }

  // ---- faults -----------------------------------------------------------------------------

  private fault(kind: string): void {
    this.trace(() => `FAULT ${kind}`);
    this.faults++;
    this.faultsByKind[kind] = (this.faultsByKind[kind] ?? 0) + 1;
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.isUp() && n.raw!.raft.role === Role.Leader && (!best || n.raw!.raft.term > best.raw!.raft.term))
        best = n;
    }
    return best;
  }

  private injectFaults(): void {
    if (this.healAt >= 0 && this.now >= this.healAt) {
      this.net.heal();
      this.net.faults = { ...this.baseFaults };
      this.healAt = -1;
    }
    if (this.now < this.nextFaultAt) return;
    this.nextFaultAt = this.now + this.faultGap[0] + this.faultRng.int(this.faultGap[1]);
    const r = this.faultRng;
    const all = [...this.nodes.keys()];
    const up = [...this.nodes.values()].filter((n) => n.isUp());
    const roll = r.int(100);
    if (roll < 22) {
      // Crash a node (sometimes the leader); it restarts from its disk later.
      if (up.length === 0) return;
      const victim = r.chance(0.4) ? (this.leader() ?? r.pick(up)) : r.pick(up);
      victim.crash(this.now + 5 + r.int(this.maxDowntime));
      this.trace(() => `${victim.id} CRASHED until ${victim.downUntil}`);
      this.fault('crash');
    } else if (roll < 34) {
      // Symmetric partition into two sides.
      const shuffled = all.slice().sort(() => r.next() - 0.5);
      const cut = 1 + r.int(Math.max(1, shuffled.length - 1));
      this.net.heal();
      this.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      this.healAt = this.now + 20 + r.int(1000);
      this.fault('partition');
    } else if (roll < 42) {
      // Isolate the leader.
      const l = this.leader();
      if (!l) return;
      this.net.heal();
      this.net.partition([[l.id], all.filter((id) => id !== l.id)]);
      this.healAt = this.now + 20 + r.int(1000);
      this.fault('isolate-leader');
    } else if (roll < 50) {
      // One-way link failures.
      for (let k = 0; k < 1 + r.int(3); k++) {
        const a = r.pick(all);
        const b = r.pick(all);
        if (a !== b) this.net.cutOneWay(a, b);
      }
      this.healAt = this.now + 100 + r.int(800);
      this.fault('one-way');
    } else if (roll < 58) {
      // A burst of a much worse network.
      this.net.faults = { ...this.baseFaults, dropRate: 0.3, duplicateRate: 0.2, longDelayRate: 0.2 };
      this.healAt = this.now + 100 + r.int(500);
      this.fault('lossy-burst');
    } else if (roll < 68) {
      const l = this.leader();
      if (!l) return;
      const voters = l.raw!.raft.confState().voters.filter((v) => v !== l.id);
      if (voters.length === 0) return;
      try {
        l.raw!.transferLeader(r.pick(voters));
        this.fault('transfer');
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
    } else if (roll < 90) {
      this.changeMembership();
    } else {
      this.net.heal();
      this.net.faults = { ...this.baseFaults };
    }
  }

  /** Schedule strikes on leaders elected since the last call, and carry out those due. */
  private strikeNewLeaders(): void {
    const r = this.faultRng;
    for (const n of this.nodes.values()) {
      const raft = n.raw?.raft;
      if (!raft || raft.role !== Role.Leader) continue;
      const key = `${n.id}@${raft.term}`;
      if (this.leadersSeen.has(key)) continue;
      this.leadersSeen.add(key);
      if (r.chance(this.leaderStrikeRate))
        this.strikes.push({ at: this.now + 1 + r.int(25), id: n.id, term: raft.term });
    }
    this.strikes.sort((a, b) => a.at - b.at);
    for (let i = this.strikes.length - 1; i >= 0; i--) {
      const st = this.strikes[i]!;
      if (st.at > this.now) continue;
      this.strikes.splice(i, 1);
      const n = this.nodes.get(st.id);
      if (!n?.isUp() || n.raw!.raft.term !== st.term) continue;
      if (r.chance(0.5)) {
        n.crash(this.now + 5 + r.int(this.maxDowntime));
        this.fault('strike-crash');
      } else {
        this.net.heal();
        this.net.partition([[n.id], [...this.nodes.keys()].filter((id) => id !== n.id)]);
        this.healAt = this.now + 10 + r.int(300);
        this.fault('strike-isolate');
      }
    }
  }

  /** Add a learner, promote one, or remove a member (the leader included), through the leader. */
  private changeMembership(): void {
    const l = this.leader();
    if (!l) return;
    const r = this.faultRng;
    const cs = l.raw!.raft.confState();
    const roll = r.int(3);
    try {
      if (roll === 0 && this.nodes.size < this.options.nodes + 4) {
        const id = `n${this.nextNodeNo++}`;
        this.addNode(id, null);
        l.raw!.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: id, context: EMPTY_BYTES });
        this.fault('add-learner');
      } else if (roll === 1 && cs.learners.length > 0) {
        const id = r.pick(cs.learners);
        l.raw!.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: id, context: EMPTY_BYTES });
        this.fault('promote');
      } else if (roll === 2 && cs.voters.length + cs.learners.length > 1 && cs.voters.length > 2) {
        const id = r.pick([...cs.voters, ...cs.learners]);
        l.raw!.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: EMPTY_BYTES });
        this.fault(id === l.id ? 'remove-leader' : 'remove');
      }
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  // ---- liveness ---------------------------------------------------------------------------

  private beginLiveness(): void {
    this.faultPhase = false;
    this.net.heal();
    this.net.faults = { ...this.baseFaults, dropRate: 0, duplicateRate: 0, longDelayRate: 0 };
    for (const n of this.nodes.values()) if (!n.isUp()) n.start();
  }

  /**
   * After healing: a leader must emerge and a fresh write through it must
   * reach every member, with every acknowledged write applied everywhere.
   */
  private runLiveness(): void {
    const deadline = this.now + this.options.livenessBoundMs;
    const barrierOp = this.nextOpId++;
    let proposedAt = -1;
    while (this.now < deadline) {
      this.stepTime();
      if (this.checkers.violations.length > 0) return;
      const l = this.leader();
      if (!l || !l.raw!.raft.committedEntryInCurrentTerm()) continue;
      if (proposedAt < 0 || this.now - proposedAt > 500) {
        try {
          l.raw!.propose(encodeCommand({ op: barrierOp, key: 'barrier', value: 'b' }));
          proposedAt = this.now;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
      const members = l.raw!.raft.confState();
      const ids = [...members.voters, ...members.learners];
      const converged = ids.every((id) => {
        const n = this.nodes.get(id);
        return n?.isUp() && n.sm.seen.has(barrierOp) && n.sm.applied === l.sm.applied;
      });
      if (converged) {
        this.checkConverged(ids);
        return;
      }
    }
    const l = this.leader();
    const state = [...this.nodes.values()]
      .map((n) => {
        const st = n.raw?.status();
        const prog = st
          ? [...st.progress].map(([id, p]) => `${id}:${p.state}/m${p.match}/n${p.next}`).join(' ')
          : '';
        return `${n.id}: ${st ? `${st.role} term ${st.term} lead ${st.leader} commit ${st.commit} applied ${st.applied} last ${st.lastIndex} first ${st.firstIndex} voters [${st.confState.voters}] learners [${st.confState.learners}] ${prog}` : 'down'}`;
      })
      .join('; ');
    this.checkers.violations.push(
      `liveness: no convergence within ${this.options.livenessBoundMs}ms after healing (leader ${l?.id ?? 'none'}): ${state}`,
    );
  }

  /**
   * The history with what the simulator knows of writes whose client never heard back. The cluster
   * has converged, so a write no node applied is in no leader's log and never takes effect: drop it.
   * One that was applied took effect no later than its first apply anywhere: that is its return.
   * Both only narrow what the checker allows, and keep its search small.
   */
  private resolveUnknownWrites(): HistoryOp[] {
    const out: HistoryOp[] = [];
    for (const h of this.history) {
      if (h.ret !== Infinity || h.op.kind !== 'put') {
        out.push(h);
        continue;
      }
      const at = this.firstApplied.get(h.id);
      if (at !== undefined) out.push({ ...h, ret: Math.max(at, h.call) });
    }
    return out;
  }

  private checkConverged(ids: NodeId[]): void {
    const digests = new Set(ids.map((id) => this.nodes.get(id)!.sm.digest()));
    if (digests.size !== 1) {
      this.checkers.violations.push(
        `convergence: members' state machines differ after healing (${ids.join(',')})`,
      );
    }
    const acknowledged = this.history.filter((h) => h.op.kind === 'put' && h.ret !== Infinity);
    for (const id of ids) {
      const sm = this.nodes.get(id)!.sm;
      for (const h of acknowledged) {
        if (!sm.seen.has(h.id)) {
          this.checkers.violations.push(`durability: acknowledged write op ${h.id} is missing on ${id}`);
          return;
        }
      }
    }
  }

  result(): SimResult {
    return {
      seed: this.seed,
      ticks: this.ticks,
      simulatedMs: this.now,
      clientOps: this.history.length,
      acknowledgedWrites: this.history.filter((h) => h.op.kind === 'put' && h.ret !== Infinity).length,
      faults: this.faults,
      faultsByKind: this.faultsByKind,
      elections: this.checkers.elections,
      snapshotsSent: this.snapshotsSent,
      violations: this.checkers.violations,
    };
  }
}

function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

function contextBytes(opId: number): Uint8Array {
  return new TextEncoder().encode(String(opId));
}

function contextText(ctx: Uint8Array): string {
  return new TextDecoder().decode(ctx);
}
