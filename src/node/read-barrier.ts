/**
 * Linearizable reads (ReadIndex, Raft thesis §6.4): a read may be answered once the node has
 * applied everything the leader had committed when the read arrived. The reads that arrive in one
 * event-loop turn share one ReadIndex round (one heartbeat round on the leader, one message to it
 * on a follower); each then waits until the local applied index reaches the round's index.
 */
import { ProposalDroppedError } from '../raft/index.js';
import { Waiters } from './waiters.js';

/** What the barrier needs of its node. */
export interface ReadBarrierHost {
  /** Start a ReadIndex round carrying `context` (RawNode.readIndex); throws ProposalDroppedError without a leader. */
  readIndex(context: Buffer): void;
  /** The node's applied index, as reads see it. */
  appliedIndex(): number;
  /** The node has work for its loop (the round's messages). */
  schedulePump(): void;
  /** The error for reads of a round the core refused (no leader), given the core's reason. */
  refused(detail: string): Error;
  /** The error for a read past its deadline. */
  timedOut(): Error;
}

/**
 * The node's linearizable reads. Each read is one waiter with one deadline from arrival to answer;
 * on its way it sits in this turn's batch, then in a round asked of the core, then, if the round's
 * index is not applied yet, in the list waiting for the applied index.
 */
export class ReadBarrier {
  private readonly reads = new Waiters<void>();
  private nextRead = 0;
  /** Reads of this turn, not yet in a round. */
  private pending: string[] = [];
  private flushScheduled = false;
  private nextContext = 0;
  /** The reads of each round asked of the core, by context (hex). */
  private readonly rounds = new Map<string, string[]>();
  /** Reads whose round answered with an index not applied here yet. */
  private appliedWaiters: { id: string; index: number }[] = [];

  constructor(private readonly host: ReadBarrierHost) {}

  /** Resolves once a read arriving now may be answered from the local state; rejects at the deadline. */
  wait(deadlineMs: number): Promise<void> {
    const id = String(++this.nextRead);
    const answered = this.reads.add(id, deadlineMs, () => {
      // A stuck node must not accumulate dead reads: leave the lists too, and the round, which a
      // lost message may leave unanswered for good (a round with no read left is dropped: busy()
      // would otherwise stay true, and a late answer for it is ignored like any unknown one).
      this.pending = this.pending.filter((r) => r !== id);
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.id !== id);
      for (const [key, ids] of this.rounds) {
        const at = ids.indexOf(id);
        if (at < 0) continue;
        ids.splice(at, 1);
        if (ids.length === 0) this.rounds.delete(key);
        break;
      }
      return this.host.timedOut();
    });
    this.pending.push(id);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return answered;
  }

  /** The core answered a round (a Ready's read state). */
  answered(context: Uint8Array, index: number): void {
    const key = Buffer.from(context).toString('hex');
    const ids = this.rounds.get(key);
    if (!ids) return;
    this.rounds.delete(key);
    const applied = this.host.appliedIndex();
    for (const id of ids) {
      if (!this.reads.has(id)) continue;
      if (index <= applied) this.reads.resolve(id, undefined);
      else this.appliedWaiters.push({ id, index });
    }
  }

  /** The applied index moved: answer the reads it now covers. */
  appliedMoved(): void {
    if (this.appliedWaiters.length === 0) return;
    const applied = this.host.appliedIndex();
    const still: typeof this.appliedWaiters = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= applied) this.reads.resolve(w.id, undefined);
      else still.push(w);
    }
    this.appliedWaiters = still;
  }

  /** Whether any read is waiting, in any stage. */
  busy(): boolean {
    return this.pending.length > 0 || this.rounds.size > 0 || this.appliedWaiters.length > 0;
  }

  /** Fail every waiting read with `e` (the node stops or has failed). */
  rejectAll(e: Error): void {
    this.reads.rejectAll(e);
    this.pending = [];
    this.rounds.clear();
    this.appliedWaiters = [];
  }

  /** Put this turn's reads into one round. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const ctx = Buffer.alloc(8);
    ctx.writeBigUInt64BE(BigInt(++this.nextContext));
    const key = ctx.toString('hex');
    this.rounds.set(key, batch);
    try {
      this.host.readIndex(ctx);
    } catch (e) {
      this.rounds.delete(key);
      if (!(e instanceof ProposalDroppedError)) throw e;
      const err = this.host.refused(e.message);
      for (const id of batch) this.reads.reject(id, err);
      return;
    }
    this.host.schedulePump();
  }
}
