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
 * asynchronously, so groups always land in the order queued. A write marked
 * `onLoop` weighs nothing: its owner has no work to overlap with the fsync
 * (a follower with no client waiting on it), so the thread round trips would
 * be pure cost.
 *
 * An asynchronous group goes to the writer thread one of two ways. A group
 * of blind writes (enqueueBlind: puts and deletes decided in JavaScript,
 * and at most a key that must exist) is handed over as lmdb-js
 * asynchronous writes (a write with a key that must exist as a block
 * conditional on it): the writer thread commits them without calling back
 * into the event loop. Any other group is a transaction callback, which
 * the writer thread must wait for the event loop to run: on a busy leader,
 * about 3 ms per group before the commit can even start. Blind producers
 * run when their group is handed over, so a blind group is handed over
 * only once every callback queued before it has run: whatever memory the
 * producers keep (the log's last index) sees the writes in order.
 *
 * Either way the group runs on setImmediate: by then Node has flushed the
 * sockets written this turn (HTTP/2 writes go out on a native immediate,
 * which runs before JavaScript immediates), so a leader's appends are on the
 * wire while it syncs its own log. A group of only deferrable writes (applied
 * state and commit indexes, which nobody waits for) waits up to DEFER_MS
 * instead, for a write to share its transaction and fsync with; any other
 * write, or hurry(), starts it at once.
 */
import { type Database, IF_EXISTS, type Key, TransactionFlags } from 'lmdb';

/** What the queue needs of an LMDB environment (lmdb-js's RootDatabase). */
export interface Transactor {
  transactionSync<T>(action: () => T, flags?: number): T;
  childTransaction<T>(action: () => T): Promise<T>;
  /** Run `action` now; the asynchronous writes it issues are committed together, in one transaction. */
  batch(action: () => void): Promise<boolean>;
  /** Resolves once every commit so far is on disk. */
  readonly flushed: PromiseLike<unknown>;
}

/** A database a blind write writes to (any of the environment's). */
// biome-ignore lint/suspicious/noExplicitAny: the key type differs between the environment's databases
export type WriteDb = Database<Buffer, any>;

/** One put (a value) or delete (null) of a blind write. */
export interface WriteOp {
  db: WriteDb;
  key: Key;
  value: Buffer | null;
}

/**
 * A write decided without reading LMDB: its puts and deletes, and the key that must exist for any
 * of them to be written (checked in the transaction that writes them: a log append's predecessor).
 */
export interface BlindWrite {
  ops: WriteOp[];
  requires?: { db: WriteDb; key: Key; missing: () => Error };
}

/** Write `w` in the current write transaction; throws, having written nothing, if its required key is missing. */
export function writeInTxn(w: BlindWrite): void {
  if (w.requires && !w.requires.db.doesExist(w.requires.key)) throw w.requires.missing();
  for (const op of w.ops) {
    if (op.value === null) op.db.removeSync(op.key);
    else op.db.putSync(op.key, op.value);
  }
}

/**
 * Issue `w` as lmdb-js asynchronous writes (inside Transactor.batch). Resolves false if its required
 * key was missing when the writer thread came to it: then none of its writes were made.
 */
function writeAsync(w: BlindWrite): Promise<boolean> | null {
  const issue = () => {
    for (const op of w.ops) {
      if (op.value === null) op.db.remove(op.key);
      else op.db.put(op.key, op.value);
    }
  };
  // IF_EXISTS: lmdb-js's "any version", so the block's condition is only that the key exists.
  if (w.requires) return w.requires.db.ifVersion(w.requires.key, IF_EXISTS, issue);
  issue();
  return null;
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
 * LMDB's MDB_NOMETASYNC, which lmdb-js passes through to mdb_txn_begin (it
 * keeps `flags & 0xf0000`) but has no name for: fdatasync the data pages, then
 * write the meta page without waiting for it. One flush instead of two; the
 * transaction may be lost in an OS crash (the previous meta page, whose pages
 * are all on disk, is then the last one), never half-written, and the next
 * durable commit's fdatasync makes it durable too.
 */
export const NO_META_SYNC = 0x40000;

/**
 * A synchronous transaction that need not be durable on return: for writes
 * that nothing acknowledges on the strength of (applied state, a commit
 * index). lmdb-js's own NO_SYNC_FLUSH would still cost both flushes under
 * overlappingSync (it flushes right after the commit, in the same thread).
 */
export const LAZY_TXN = DURABLE_TXN | NO_META_SYNC;

/** How a write is to be committed. */
export interface WriteOptions {
  /** Resolve only once the write is on disk. */
  durable: boolean;
  /** The Raft entries the write carries (decides synchronous or asynchronous commit); default 1. */
  weight?: number;
  /** Nobody waits for it: it may wait up to DEFER_MS for another write to share its transaction. */
  deferrable?: boolean;
  /**
   * Commit its group synchronously, once no asynchronous group is in flight: then the body and
   * the commit run in one synchronous call, with no moment in between at which JavaScript runs
   * (a snapshot install drops the in-memory applied state in its body).
   */
  exclusive?: boolean;
  /**
   * Commit on the event loop whatever the weight (unless an asynchronous group is in flight): the
   * owner has nothing to do while the disk syncs, so lmdb-js's writer thread would only add cost.
   */
  onLoop?: boolean;
}

/** Which thread committed a group: the event loop (blocked for the fsync) or lmdb-js's writer thread. */
export type CommitThread = 'event_loop' | 'writer';

/** What the queue tells its owner (metrics, caches); each is optional. */
export interface WriteQueueHooks {
  /** A group was committed, on this thread. */
  onCommit?(thread: CommitThread): void;
  /** A group with a durable write took `ms`, fsync included, from flush to on disk. */
  onDurableCommit?(ms: number): void;
  /**
   * Told, before any other write body runs, that a transaction rolled back (a body threw or the
   * commit failed): whatever the owner keeps in memory of what its bodies wrote may be wrong.
   */
  onRollback?(): void;
}

/** The result of a write of an asynchronous group that failed alone (a blind write's missing key). */
class Failed {
  constructor(readonly error: Error) {}
}

/** One queued write: its body, how to commit it, and its promise. */
interface Pending<T> {
  /** Runs the write inside a transaction. */
  run: () => T;
  /** A blind write's producer (run writes what it returns); null for any other write. */
  blind: (() => BlindWrite) | null;
  durable: boolean;
  weight: number;
  exclusive: boolean;
  onLoop: boolean;
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
  /** An exclusive group waits for the asynchronous groups in flight. */
  private waitingForAsync = false;
  /** Transaction callbacks handed to the writer thread that have not run yet. */
  private callbacksPending = 0;
  /** The first failure of an asynchronous group: every write not yet handed over is refused. */
  private broken: Error | null = null;

  constructor(
    private readonly env: Transactor,
    private readonly hooks: WriteQueueHooks = {},
  ) {}

  /**
   * Run `run` inside a write transaction after every write enqueued before it. Resolves with its
   * result once the transaction is committed, and when `durable`, once it is on disk. If `run`
   * throws, its transaction rolls back and it rejects; in a synchronous group the writes grouped
   * with it are retried one by one (so `run` may run twice), so only the failing one fails, while
   * an asynchronous group fails together (lmdb-js has already queued later groups behind it, so
   * retrying would reorder writes) and breaks the queue: every write not yet handed to LMDB is
   * refused from then on (see settleAsync).
   */
  enqueue<T>(run: () => T, opts: WriteOptions): Promise<T> {
    return this.push(run, null, opts);
  }

  /**
   * Queue a blind write: `produce` decides its puts and deletes without reading LMDB, and runs once
   * its turn comes, after every write enqueued before it (so it may keep memory of what it wrote,
   * e.g. the log's last index). If it throws, it must not have changed that memory: only its own
   * write fails. If its required key is missing when written, it fails, having written nothing,
   * and the owner is told as of a rollback (its memory ran ahead of what was written).
   */
  enqueueBlind(produce: () => BlindWrite, opts: WriteOptions): Promise<void> {
    return this.push(() => writeInTxn(produce()), produce, opts);
  }

  private push<T>(run: () => T, blind: (() => BlindWrite) | null, opts: WriteOptions): Promise<T> {
    const { durable, weight = 1, deferrable = false, exclusive = false, onLoop = false } = opts;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run,
        blind,
        durable,
        weight,
        exclusive,
        onLoop,
        resolve,
        reject,
      } as Pending<unknown>);
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
    if (this.broken) {
      const refused = new Error(`storage: refused after an earlier write failed: ${this.broken.message}`);
      for (const p of group) p.reject(refused);
      this.maybeIdle();
      return;
    }
    let weight = 0;
    let exclusive = false;
    for (const p of group) {
      if (!p.onLoop) weight += p.weight;
      exclusive ||= p.exclusive;
    }
    if (exclusive && this.asyncGroups > 0) {
      // Back to the front of the queue until the last asynchronous group is done.
      this.queue = group.concat(this.queue);
      this.waitingForAsync = true;
      return;
    }
    if (!exclusive && (this.asyncGroups > 0 || weight > SYNC_MAX_WEIGHT)) {
      if (this.callbacksPending === 0 && group.every((p) => p.blind !== null)) this.commitBlind(group);
      else this.commitAsync(group);
      return;
    }
    try {
      this.commit(group);
    } finally {
      this.maybeIdle();
    }
  }

  private reportCommit(thread: CommitThread, durable: boolean, startMs: number): void {
    this.hooks.onCommit?.(thread);
    if (durable) this.hooks.onDurableCommit?.(performance.now() - startMs);
  }

  /**
   * Commit the group on lmdb-js's writer thread as a transaction callback (which the event loop
   * runs when the writer thread gets to it); resolve its durable writes once flushed.
   */
  private commitAsync(group: Pending<unknown>[]): void {
    let ran = false;
    this.callbacksPending++;
    const ranNow = () => {
      if (ran) return;
      ran = true;
      this.callbacksPending--;
    };
    let txn: Promise<unknown[]>;
    try {
      txn = this.env.childTransaction(() => {
        ranNow();
        try {
          return group.map((p) => p.run());
        } catch (error) {
          this.hooks.onRollback?.();
          throw error;
        }
      });
    } catch (error) {
      txn = Promise.reject(error); // lmdb-js refused it outright (a closed environment)
    }
    // A failed commit may never run the callback.
    this.settleAsync(group, txn.finally(ranNow));
  }

  /**
   * Hand a group of blind writes to lmdb-js's writer thread as asynchronous writes: their producers
   * run now, in order, and the writer thread commits them with no call back into the event loop.
   * A producer that throws fails its write alone; a write whose required key is missing fails alone.
   */
  private commitBlind(group: Pending<unknown>[]): void {
    const writes: BlindWrite[] = [];
    const live: Pending<unknown>[] = [];
    for (const p of group) {
      try {
        writes.push(p.blind!());
        live.push(p);
      } catch (error) {
        p.reject(error);
      }
    }
    if (live.length === 0) {
      this.maybeIdle();
      return;
    }
    const checks: (Promise<boolean> | null)[] = [];
    let txn: Promise<unknown>;
    try {
      txn = this.env.batch(() => {
        for (const w of writes) checks.push(writeAsync(w));
      });
    } catch (error) {
      // Only a bug gets here (lmdb-js refusing a key or value): writes already issued may land,
      // and the queue breaks (settleAsync).
      txn = Promise.reject(error);
    }
    // Handled from now on: when the commit fails, lmdb-js rejects the conditions' promises too.
    const written = Promise.all(checks);
    written.catch(() => {});
    const results = txn.then(async () =>
      (await written).map((ok, i) => (ok === false ? new Failed(writes[i]!.requires!.missing()) : undefined)),
    );
    this.settleAsync(live, results);
  }

  /**
   * Resolve an asynchronous group's writes with `results` once committed, and once flushed if any
   * is durable; reject them all if the commit fails. A result that is Failed rejects its own write
   * only (and the owner is told as of a rollback: its memory ran ahead of what was written).
   * Either failure breaks the queue. Later groups may be in flight already, produced from memory
   * that assumed the failed writes: what the owner would reread from LMDB now is not what those
   * groups will leave, so no write is produced from here on (the owner is failing anyway: a write
   * it depended on is lost).
   */
  private settleAsync(group: Pending<unknown>[], txn: Promise<unknown[]>): void {
    const durable = group.some((p) => p.durable);
    const start = performance.now();
    this.asyncGroups++;
    // Asked now, `flushed` is the flush of the batch this transaction joined; asked after the
    // commit, it would also wait for the batches queued behind it (a convoy under load).
    const flushed = durable ? new Promise((resolve, reject) => this.env.flushed.then(resolve, reject)) : null;
    flushed?.catch(() => {}); // awaited below unless the commit fails first
    txn
      .then(async (results) => {
        // The transaction's promise resolves at commit (visible to readers); under overlappingSync
        // the fsync comes after, observable only through `flushed`.
        if (flushed) await flushed;
        const failed = results.find((r) => r instanceof Failed);
        if (failed) {
          this.broken ??= failed.error;
          this.hooks.onRollback?.();
        }
        group.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Failed) p.reject(r.error);
          else p.resolve(r);
        });
        // After the writes are answered: an observer's throw cannot fail a committed group.
        this.reportCommit('writer', durable, start);
      })
      .catch((error: unknown) => {
        this.broken ??= error instanceof Error ? error : new Error(String(error));
        this.hooks.onRollback?.();
        for (const p of group) p.reject(error);
      })
      .finally(() => {
        this.asyncGroups--;
        if (this.asyncGroups === 0 && this.waitingForAsync) {
          this.waitingForAsync = false;
          this.hurry();
        }
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
      this.hooks.onRollback?.();
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const p of group) this.commit([p]);
      return;
    }
    // Outside the try: the group is committed, whatever the observer does.
    this.reportCommit('event_loop', durable, start);
    group.forEach((p, i) => {
      p.resolve(results[i]);
    });
  }
}
