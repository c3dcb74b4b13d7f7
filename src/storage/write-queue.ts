/**
 * Group commit for one LMDB environment: writes queued in one event-loop
 * turn run together, in the order queued, as one transaction with one fsync,
 * on the next turn's check phase.
 *
 * Under lmdb-js's overlappingSync every commit is followed by an fsync in the
 * committing thread, so there are two ways to commit a group:
 * - synchronously, on the main thread: the event loop is blocked for the
 *   fsync, but there are no round trips between threads (an asynchronous
 *   transaction runs its callback on the main thread, commits and syncs on
 *   lmdb-js's writer thread, and resolves on the main thread: about three
 *   times the cost of the fsync on an idle node). Best when a node has little
 *   else to do: one client, a follower receiving one entry at a time.
 * - asynchronously, on lmdb-js's writer thread: the main thread parses
 *   requests, replicates and applies while the disk syncs. Best under load,
 *   when blocking the loop for each fsync would serialise CPU work and disk.
 * The queue picks by the group's weight (the Raft entries it carries, which
 * grows with the number of concurrent clients because proposals of one turn
 * are batched): light groups commit synchronously, heavy ones asynchronously,
 * and while an asynchronous group is in flight every later group follows it
 * asynchronously, so groups always land in the order queued.
 *
 * Either way the group runs on setImmediate: by then Node has flushed the
 * sockets written this turn (HTTP/2 writes go out on a native immediate,
 * which runs before JavaScript immediates), so a leader's appends are on the
 * wire while it syncs its own log. A group of only deferrable writes (a
 * follower's applies that nobody waits for) waits up to DEFER_MS instead, for
 * a write to share its transaction and fsync with; any other write, or
 * hurry(), starts it at once.
 */
import { TransactionFlags } from 'lmdb';

/** What the queue needs of an LMDB environment (lmdb-js's RootDatabase). */
export interface Transactor {
  transactionSync<T>(action: () => T, flags?: number): T;
  childTransaction<T>(action: () => T): Promise<T>;
  /** Resolves once every commit so far is on disk. */
  readonly flushed: PromiseLike<unknown>;
}

/** How long a group of only deferrable writes waits for company, in milliseconds. */
export const DEFER_MS = 5;

/** Groups carrying at most this many Raft entries commit synchronously (when nothing is in flight). */
export const SYNC_MAX_WEIGHT = 4;

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
  weight: number;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Writes for one environment, group-committed in the order enqueued. */
export class WriteQueue {
  private queue: Pending<unknown>[] = [];
  /** A flush is scheduled on setImmediate. */
  private scheduled = false;
  /** A flush of deferrable writes is scheduled on this timer. */
  private deferTimer: NodeJS.Timeout | null = null;
  /** Resolves when the queue is empty. */
  private idleWaiters: (() => void)[] = [];
  /** Asynchronous groups committing on lmdb-js's writer thread. */
  private asyncGroups = 0;

  constructor(
    private readonly env: Transactor,
    /** Told how long each durable group took, fsync included, in milliseconds (metrics). */
    private readonly onDurableCommit: (ms: number) => void = () => {},
  ) {}

  /**
   * Run `run` inside a write transaction after every write enqueued before it. Resolves with its
   * result once the transaction is committed, and when `durable`, once it is on disk. `weight` is
   * the number of Raft entries the write carries. If `run` throws, its transaction rolls back and
   * it rejects; in a synchronous group the writes grouped with it are retried one by one, so only
   * the failing one fails, while an asynchronous group fails together (lmdb-js has already queued
   * later groups behind it, so retrying would reorder writes).
   */
  enqueue<T>(run: () => T, durable: boolean, weight = 1, deferrable = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, durable, weight, resolve, reject } as Pending<unknown>);
      if (deferrable) {
        if (!this.scheduled && this.deferTimer === null) {
          this.deferTimer = setTimeout(() => this.hurry(), DEFER_MS);
        }
      } else this.hurry();
    });
  }

  /** Flush what is queued on the next check phase, without waiting out a deferral. */
  hurry(): void {
    if (this.deferTimer !== null) {
      clearTimeout(this.deferTimer);
      this.deferTimer = null;
    }
    if (!this.scheduled && this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once every write enqueued so far has finished. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.scheduled && this.deferTimer === null && this.queue.length === 0 && this.asyncGroups === 0;
  }

  private maybeIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) {
      this.maybeIdle();
      return;
    }
    let weight = 0;
    for (const p of group) weight += p.weight;
    if (this.asyncGroups > 0 || weight > SYNC_MAX_WEIGHT) {
      this.commitAsync(group);
      return;
    }
    try {
      this.commit(group);
    } finally {
      this.maybeIdle();
    }
  }

  /** Commit the group on lmdb-js's writer thread; resolve its durable writes once flushed. */
  private commitAsync(group: Pending<unknown>[]): void {
    const durable = group.some((p) => p.durable);
    const start = performance.now();
    this.asyncGroups++;
    this.env
      .childTransaction(() => group.map((p) => p.run()))
      .then(async (results) => {
        // The transaction's promise resolves at commit (visible to readers); under overlappingSync
        // the fsync comes after, observable only through `flushed`, which covers every commit so far.
        if (durable) await this.env.flushed;
        group.forEach((p, i) => {
          p.resolve(results[i]);
        });
        // After the writes are answered: an observer's throw cannot fail a committed group.
        if (durable) this.onDurableCommit(performance.now() - start);
      })
      .catch((error: unknown) => {
        for (const p of group) p.reject(error);
      })
      .finally(() => {
        this.asyncGroups--;
        this.maybeIdle();
      });
  }

  /** Commit the group in one transaction; on a throw, fall back to one transaction per write. */
  private commit(group: Pending<unknown>[]): void {
    const durable = group.some((p) => p.durable);
    let results: unknown[];
    const start = performance.now();
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
    // Outside the try: the group is committed, whatever the observer does.
    if (durable) this.onDurableCommit(performance.now() - start);
    group.forEach((p, i) => {
      p.resolve(results[i]);
    });
  }
}
