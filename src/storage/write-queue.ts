/**
 * Group commit for one LMDB environment: writes queued in one event-loop
 * turn run together, in the order queued, as one synchronous transaction on
 * the next turn's check phase, with one fsync for all of them.
 *
 * Why synchronous and why deferred: under lmdb-js's overlappingSync every
 * commit is followed by an fsync in the committing thread. An asynchronous
 * transaction hands the work to lmdb-js's writer thread, and the round trips
 * between threads (run the callback on the main thread, commit and sync on
 * the writer, resolve on the main thread) cost about a millisecond, three
 * times the fsync itself. A synchronous transaction blocks the event loop for
 * the fsync instead, so it runs on setImmediate: by then Node has flushed the
 * sockets written this turn (HTTP/2 writes go out on a native immediate,
 * which runs before JavaScript immediates), so a leader's appends are on the
 * wire while it syncs its own log, and everything that arrived meanwhile is
 * committed by the next group.
 */
import { TransactionFlags } from 'lmdb';

/** What the queue needs of an LMDB environment: lmdb-js's transactionSync. */
export interface SyncTransactor {
  transactionSync<T>(action: () => T, flags?: number): T;
}

/**
 * A synchronous transaction that returns only once it is on disk: LMDB
 * fdatasyncs the data file and writes the meta page through its O_DSYNC
 * handle before the commit returns.
 */
export const DURABLE_TXN = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT;

/**
 * A synchronous transaction that may return before it is on disk (lmdb-js
 * flushes it as part of overlappingSync, as it does its own batches): for
 * writes that nothing acknowledges on the strength of (applying committed
 * entries, a commit index).
 */
export const LAZY_TXN = DURABLE_TXN | TransactionFlags.NO_SYNC_FLUSH;

/** One queued write: its body, whether it must be durable before resolving, and its promise. */
interface Pending<T> {
  run: () => T;
  durable: boolean;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Writes for one environment, group-committed in the order enqueued. */
export class WriteQueue {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  /** Resolves when the queue is empty. */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly env: SyncTransactor) {}

  /**
   * Run `run` inside a write transaction after every write enqueued before it. Resolves with its
   * result once the transaction is committed, and when `durable`, once it is on disk. If `run`
   * throws, its transaction rolls back and it rejects; the writes grouped with it are retried
   * one by one, so only the failing one fails.
   */
  enqueue<T>(run: () => T, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, durable, resolve, reject } as Pending<unknown>);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes queued and not yet run. */
  get length(): number {
    return this.queue.length;
  }

  /** Resolves once every write enqueued so far has finished. */
  idle(): Promise<void> {
    if (!this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    try {
      this.commit(group);
    } finally {
      if (this.queue.length === 0 && !this.scheduled) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Commit the group in one transaction; on a throw, fall back to one transaction per write. */
  private commit(group: Pending<unknown>[]): void {
    if (group.length === 0) return;
    const durable = group.some((p) => p.durable);
    let results: unknown[];
    try {
      results = this.env.transactionSync(() => group.map((p) => p.run()), durable ? DURABLE_TXN : LAZY_TXN);
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const p of group) this.commit([p]);
      return;
    }
    group.forEach((p, i) => {
      p.resolve(results[i]);
    });
  }
}
