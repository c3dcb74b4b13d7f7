/**
 * Shared scaffolding for the table-driven Raft rule tests: a tiny,
 * deterministic, in-memory network of RawNodes over MemoryStorage. Each node's
 * Ready is handled exactly as the driver contract says (persist hard state,
 * snapshot and entries; send messages; apply; advance), and the network can
 * drop links, isolate nodes, stop them, or restart them from their storage.
 */
import {
  bootstrapLog,
  type ConfChange,
  ConfChangeType,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  encodeConfChange,
  MemoryStorage,
  type Message,
  MessageType,
  makeMessage,
  type NodeId,
  Prng,
  ProgressState,
  type RaftConfig,
  RawNode,
  type ReadState,
  Role,
} from '../../src/raft/index.js';

/** Raft options the harness passes to every node it creates (timings default to 10/2 ticks). */
export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

/** One message as it left a node's Ready, and whether the network delivered it. */
export interface SentMessage {
  msg: Message;
  delivered: boolean;
}

/** A drop rule: return true to lose the message. */
export type MessageFilter = (m: Message) => boolean;

/** Default election timeout of harness nodes, in ticks. */
export const ELECTION_TICKS = 10;
/** Default heartbeat interval of harness nodes, in ticks. */
export const HEARTBEAT_TICKS = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a string, for proposals and read contexts. */
export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A string from bytes. */
export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** A conf change with an empty context. */
export function confChange(type: ConfChangeType, nodeId: NodeId): ConfChange {
  return { type, nodeId, context: EMPTY_BYTES };
}

export {
  ConfChangeType,
  type Entry,
  EntryType,
  encodeConfChange,
  type Message,
  MessageType,
  makeMessage,
  ProgressState,
  Role,
};

/** A deterministic in-memory cluster of RawNodes. */
export class Cluster {
  /** The live RawNode of every member, by id. */
  readonly nodes = new Map<NodeId, RawNode>();
  /** Each node's "disk": survives restart(). */
  readonly storages = new Map<NodeId, MemoryStorage>();
  /** Every committed entry each node's state machine has applied, in order. */
  readonly applied = new Map<NodeId, Entry[]>();
  /** Every ReadState each node has handed out. */
  readonly readStates = new Map<NodeId, ReadState[]>();
  /** Every message that came out of a Ready (cleared by clearLog). */
  log: SentMessage[] = [];
  /** Called for every message as it is taken from its sender's Ready (before the network decides). */
  onSend: ((m: Message, sender: RawNode) => void) | null = null;

  private readonly rng: Prng;
  private readonly options = new Map<NodeId, NodeOptions>();
  private readonly stopped = new Set<NodeId>();
  private readonly isolated = new Set<NodeId>();
  private readonly droppedLinks = new Set<string>();
  private filters: MessageFilter[] = [];
  private queue: Message[] = [];

  /** An empty cluster whose node PRNGs all derive from `seed`. */
  constructor(seed = 1) {
    this.rng = new Prng(seed);
  }

  /** A cluster whose `voters` are bootstrapped founders (no leader yet, first Readies processed). */
  static create(voters: NodeId[], options: NodeOptions = {}, seed = 1): Cluster {
    const c = new Cluster(seed);
    for (const id of voters) c.addNode(id, { founders: voters, options });
    c.stabilize();
    return c;
  }

  /**
   * Start a node: a founder (bootstrapped log) or, with founders null, an
   * empty node that joins later. `extraTerms` appends uncommitted entries of
   * those terms after the bootstrap entries (and raises the persisted term to
   * the highest), to build a node with a given (lastTerm, lastIndex).
   */
  addNode(
    id: NodeId,
    opts: { founders?: NodeId[] | null; options?: NodeOptions; extraTerms?: number[] } = {},
  ): RawNode {
    const storage = new MemoryStorage();
    if (opts.founders) {
      const boot = bootstrapLog(opts.founders);
      const extra = (opts.extraTerms ?? []).map(
        (term, i): Entry => ({
          term,
          index: boot.entries.length + 1 + i,
          type: EntryType.Normal,
          data: bytes(`pre-${i}`),
        }),
      );
      storage.append([...boot.entries, ...extra]);
      storage.setHardState({
        ...boot.hardState,
        term: Math.max(boot.hardState.term, ...(opts.extraTerms ?? [])),
      });
    }
    this.storages.set(id, storage);
    this.options.set(id, opts.options ?? {});
    this.applied.set(id, []);
    this.readStates.set(id, []);
    return this.boot(id);
  }

  private boot(id: NodeId): RawNode {
    const storage = this.storage(id);
    const node = new RawNode({
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      ...this.options.get(id),
      id,
      storage,
      rng: new Prng(this.rng.nextUint32()),
      applied: storage.snapshot().meta.index,
    });
    this.nodes.set(id, node);
    return node;
  }

  /** Every node id, in creation order. */
  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  /** The RawNode of id (throws if unknown). */
  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`harness: no node ${id}`);
    return n;
  }

  /** The MemoryStorage of id (throws if unknown). */
  storage(id: NodeId): MemoryStorage {
    const s = this.storages.get(id);
    if (!s) throw new Error(`harness: no storage for ${id}`);
    return s;
  }

  // ---- faults ------------------------------------------------------------------------------

  /** Cut every link to and from id (the node keeps running and ticking). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Lose every message from `from` to `to` (one direction). */
  dropLink(from: NodeId, to: NodeId): void {
    this.droppedLinks.add(`${from}->${to}`);
  }

  /** Lose every message between a and b (both directions). */
  cut(a: NodeId, b: NodeId): void {
    this.dropLink(a, b);
    this.dropLink(b, a);
  }

  /** Undo isolate / dropLink / cut (filters stay until removed). */
  heal(): void {
    this.isolated.clear();
    this.droppedLinks.clear();
  }

  /** Add a drop rule; returns a function that removes it. */
  addFilter(f: MessageFilter): () => void {
    this.filters.push(f);
    return () => {
      this.filters = this.filters.filter((g) => g !== f);
    };
  }

  /** Remove every drop rule. */
  clearFilters(): void {
    this.filters = [];
  }

  /** Pause a node: it neither ticks nor handles Readies, and messages to it are lost. */
  stop(id: NodeId): void {
    this.stopped.add(id);
  }

  /** Resume a stopped node with its in-memory state intact. */
  resume(id: NodeId): void {
    this.stopped.delete(id);
  }

  /** Crash and reboot a node from its storage: everything not persisted is lost. */
  restart(id: NodeId): RawNode {
    this.stopped.delete(id);
    this.applied.set(id, []);
    return this.boot(id);
  }

  /** Whether id exists and is not stopped. */
  isUp(id: NodeId): boolean {
    return this.nodes.has(id) && !this.stopped.has(id);
  }

  private drops(m: Message): boolean {
    if (!this.isUp(m.to) || !this.isUp(m.from)) return true;
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true;
    if (this.droppedLinks.has(`${m.from}->${m.to}`)) return true;
    return this.filters.some((f) => f(m));
  }

  // ---- running -----------------------------------------------------------------------------

  /** Handle one Ready of a node the way the driver does; false if it had none. */
  processReady(id: NodeId): boolean {
    return this.handleReady(id, true) !== null;
  }

  /**
   * Handle one Ready of a node but keep its messages off the network:
   * returns them (empty if there was no Ready), for tests that inspect a reply.
   */
  takeMessages(id: NodeId): Message[] {
    return this.handleReady(id, false) ?? [];
  }

  private handleReady(id: NodeId, send: boolean): Message[] | null {
    const node = this.node(id);
    if (!node.hasReady()) return null;
    const storage = this.storage(id);
    const rd = node.ready();
    if (rd.hardState) storage.setHardState(rd.hardState);
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) storage.append(rd.entries);
    for (const m of rd.messages) {
      this.onSend?.(m, node);
      const delivered = send && !this.drops(m);
      this.log.push({ msg: m, delivered });
      if (delivered) this.queue.push(m);
      else if (m.type === MessageType.Snap) this.queue.push(snapFailed(m));
    }
    this.applied.get(id)!.push(...rd.committedEntries);
    this.readStates.get(id)!.push(...rd.readStates);
    node.advance(rd);
    return rd.messages;
  }

  /** Deliver the messages in flight (only those; replies wait for the next call). */
  deliverAll(): number {
    const q = this.queue;
    this.queue = [];
    for (const m of q) {
      if (m.type === MessageType.SnapStatus) {
        // The transport reports a lost snapshot to the leader, as a real driver would.
        if (this.isUp(m.to)) this.node(m.to).reportSnapshot(m.from, false);
        continue;
      }
      if (this.isUp(m.to)) this.node(m.to).step(m);
    }
    return q.length;
  }

  /** Process every node's Ready and deliver messages until nothing is left to do. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.ids()) {
        if (this.isUp(id) && this.processReady(id)) busy = true;
      }
      if (this.deliverAll() > 0) busy = true;
      if (!busy) return;
    }
    throw new Error('harness: cluster did not stabilize');
  }

  /** Tick one node n times, stabilizing after each tick. */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.stabilize();
    }
  }

  /** Tick every running node once per round for n rounds, stabilizing after each round. */
  tickAll(n = 1, only?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const id of only ?? this.ids()) if (this.isUp(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Tick every running node until pred holds (checked after each round); returns the rounds used. */
  tickUntil(pred: () => boolean, maxRounds = 20 * ELECTION_TICKS, only?: NodeId[]): number {
    for (let i = 0; i < maxRounds; i++) {
      if (pred()) return i;
      this.tickAll(1, only);
    }
    if (pred()) return maxRounds;
    throw new Error(`harness: condition not reached in ${maxRounds} rounds`);
  }

  /**
   * Make `id` the leader: it campaigns, and while it has not won the other
   * running nodes tick (so leases of a lost leader expire); their own
   * campaigns are dropped so that only `id` can win.
   */
  elect(id: NodeId, maxRounds = 20 * ELECTION_TICKS): void {
    const target = this.node(id);
    const unfilter = this.addFilter(
      (m) => m.from !== id && (m.type === MessageType.Vote || m.type === MessageType.PreVote),
    );
    try {
      for (let i = 0; i < maxRounds; i++) {
        this.stabilize();
        target.campaign();
        this.stabilize();
        if (target.isLeader()) return;
        for (const other of this.ids()) if (other !== id && this.isUp(other)) this.node(other).tick();
      }
    } finally {
      unfilter();
    }
    this.stabilize();
    throw new Error(
      `harness: ${id} could not be elected (role ${target.raft.role}, term ${target.raft.term})`,
    );
  }

  /** The running node that leads at the highest term, if any. */
  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const [id, n] of this.nodes) {
      if (this.isUp(id) && n.isLeader() && n.raft.term > bestTerm) {
        best = id;
        bestTerm = n.raft.term;
      }
    }
    return best;
  }

  /** Propose one client entry at a node, then stabilize. */
  propose(id: NodeId, data: string | Uint8Array): void {
    this.node(id).propose(typeof data === 'string' ? bytes(data) : data);
    this.stabilize();
  }

  /** Propose a conf change at a node, then stabilize. */
  proposeConfChange(id: NodeId, type: ConfChangeType, nodeId: NodeId): void {
    this.node(id).proposeConfChange(confChange(type, nodeId));
    this.stabilize();
  }

  /** The node's whole log as the core sees it (stable + unstable), from its first index. */
  entries(id: NodeId): Entry[] {
    const log = this.node(id).raft.log;
    return log.slice(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  }

  /** The entries in the node's MemoryStorage ("on disk"). */
  storedEntries(id: NodeId): Entry[] {
    const s = this.storage(id);
    if (s.lastIndex() < s.firstIndex()) return [];
    return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  }

  /** The entry at index on a node, or undefined. */
  entryAt(id: NodeId, index: number): Entry | undefined {
    return this.entries(id).find((e) => e.index === index);
  }

  /** Take a snapshot at the node's applied index and drop the log it covers. */
  compact(id: NodeId, data: Uint8Array = bytes('snapshot')): number {
    const r = this.node(id).raft;
    const at = r.log.applied;
    const s = this.storage(id);
    s.createSnapshot(at, r.confState(), data);
    s.compact(at);
    return at;
  }

  /** Messages of a type (optionally from/to given nodes) in the log, delivered or not. */
  sent(type: MessageType, filter: { from?: NodeId; to?: NodeId; delivered?: boolean } = {}): Message[] {
    return this.log
      .filter(
        (s) =>
          s.msg.type === type &&
          (filter.from === undefined || s.msg.from === filter.from) &&
          (filter.to === undefined || s.msg.to === filter.to) &&
          (filter.delivered === undefined || s.delivered === filter.delivered),
      )
      .map((s) => s.msg);
  }

  /** Forget the messages recorded so far. */
  clearLog(): void {
    this.log = [];
  }

  /** The data of the Normal, non-empty entries a node has applied, as strings. */
  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === EntryType.Normal && e.data.byteLength > 0)
      .map((e) => text(e.data));
  }
}

/** The local report that a snapshot could not be delivered (routed back to the sender). */
function snapFailed(m: Message): Message {
  return makeMessage({ type: MessageType.SnapStatus, from: m.to, to: m.from, reject: true });
}
