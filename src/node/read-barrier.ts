/**
 * Linearizable reads (ReadIndex, Raft thesis §6.4): a read may be answered once the node has
 * applied everything the leader had committed when the read arrived. The reads that arrive in one
 * event-loop turn share one ReadIndex round (one heartbeat round on the leader, one message to it
 * on a follower); each then waits until the local applied index reaches the round's index.
 */
import { ProposalDroppedError } from '../raft/index.js';

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

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (e: Error) => void;
}

/** Wait for `register` to call back, or reject with onTimeout() at the absolute time deadlineMs. */
function withDeadline<T>(
  deadlineMs: number,
  onTimeout: () => Error,
  register: (p: Pending<T>) => void,
  forget: (p: Pending<T>) => void = () => {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const p: Pending<T> = {
      resolve: (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
    const timer = setTimeout(
      () => {
        forget(p);
        reject(onTimeout());
      },
      Math.max(0, deadlineMs - Date.now()),
    );
    register(p);
  });
}

/** The node's linearizable reads: those waiting for a ReadIndex round, then for the applied index. */
export class ReadBarrier {
  /** Reads of this turn, not yet in a round. */
  private pending: Pending<number>[] = [];
  private flushScheduled = false;
  private nextContext = 0;
  /** Rounds asked of the core, by context (hex). */
  private readonly rounds = new Map<string, Pending<number>>();
  /** Reads whose round answered with an index not applied here yet. */
  private appliedWaiters: (Pending<void> & { index: number })[] = [];

  constructor(private readonly host: ReadBarrierHost) {}

  /** Resolves once a read arriving now may be answered from the local state; rejects at the deadline. */
  async wait(deadlineMs: number): Promise<void> {
    const index = await withDeadline<number>(deadlineMs, this.host.timedOut, (p) => {
      this.pending.push(p);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    if (this.host.appliedIndex() >= index) return;
    await withDeadline<void>(
      deadlineMs,
      this.host.timedOut,
      (p) => this.appliedWaiters.push({ ...p, index }),
      // On timeout, leave the list too: a stuck node must not accumulate dead waiters.
      (p) => {
        this.appliedWaiters = this.appliedWaiters.filter((w) => w.resolve !== p.resolve);
      },
    );
  }

  /** The core answered a round (a Ready's read state). */
  answered(context: Uint8Array, index: number): void {
    const key = Buffer.from(context).toString('hex');
    const round = this.rounds.get(key);
    if (!round) return;
    this.rounds.delete(key);
    round.resolve(index);
  }

  /** The applied index moved: answer the reads it now covers. */
  appliedMoved(): void {
    if (this.appliedWaiters.length === 0) return;
    const applied = this.host.appliedIndex();
    const still: typeof this.appliedWaiters = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= applied) w.resolve();
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
    for (const r of this.rounds.values()) r.reject(e);
    this.rounds.clear();
    for (const r of this.pending) r.reject(e);
    this.pending = [];
    for (const w of this.appliedWaiters) w.reject(e);
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
    this.rounds.set(key, {
      resolve: (index) => {
        for (const r of batch) r.resolve(index);
      },
      reject: (e) => {
        for (const r of batch) r.reject(e);
      },
    });
    try {
      this.host.readIndex(ctx);
    } catch (e) {
      this.rounds.delete(key);
      if (!(e instanceof ProposalDroppedError)) throw e;
      const err = this.host.refused(e.message);
      for (const r of batch) r.reject(err);
      return;
    }
    this.host.schedulePump();
  }
}
