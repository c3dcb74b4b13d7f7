import {
  bootstrapLog,
  MemoryStorage,
  type NodeId,
  Prng,
  type RaftConfig,
  RawNode,
  type Ready,
} from '../../src/raft/index.js';
import { KvStateMachine } from './kv-state-machine.js';

/** A client read waiting on this node: first for its ReadState, then for the state machine to catch up. */
export interface PendingRead {
  opId: number;
  key: string;
  /** Set once the ReadState arrives: the index the state machine must reach. */
  index?: number;
}

/** Raft timing and batching the simulated nodes run with. */
export type SimRaftOptions = Omit<RaftConfig, 'id' | 'storage' | 'rng' | 'applied'>;

/**
 * One simulated server: its "disk" (a MemoryStorage that survives crashes),
 * and its volatile parts (the Raft node, the state machine, pending client
 * work) which a crash throws away.
 */
export class SimNode {
  readonly storage = new MemoryStorage();
  raw: RawNode | null = null;
  sm = new KvStateMachine();
  /** Readies being written, in the order they were taken, each with the time its write completes. */
  inflight: { rd: Ready; doneAt: number }[] = [];
  /** Writes submitted here, by op id. */
  readonly pendingWrites = new Set<number>();
  /** Reads submitted here, by context (the op id as text). */
  readonly pendingReads = new Map<string, PendingRead>();
  restarts = 0;
  /** Set when the node is crashed: the time it comes back. */
  downUntil = -1;

  constructor(
    readonly id: NodeId,
    private readonly seed: number,
    private readonly options: SimRaftOptions,
    founders: NodeId[] | null,
  ) {
    if (founders) {
      const boot = bootstrapLog(founders);
      this.storage.append(boot.entries);
      this.storage.setHardState(boot.hardState);
    }
    this.start();
  }

  /** Boot from the disk: what a process restart does. */
  start(): void {
    const snap = this.storage.snapshot();
    this.sm = new KvStateMachine();
    this.sm.restore(snap.data, snap.meta.index);
    this.raw = new RawNode({
      ...this.options,
      id: this.id,
      storage: this.storage,
      rng: new Prng((this.seed ^ Math.imul(this.restarts + 1, 0x9e3779b1)) >>> 0),
      applied: snap.meta.index,
    });
    this.downUntil = -1;
  }

  /** Power off: everything not on disk is gone, including a Ready whose fsync had not completed. */
  crash(until: number): void {
    this.raw = null;
    this.inflight = [];
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.restarts++;
    this.downUntil = until;
  }

  isUp(): boolean {
    return this.raw !== null;
  }
}
