import type { ConfState, Entry, HardState, LogStorage, SnapshotMeta } from '../raft/index.js';

/** A client write as the state machine executes it. */
export type Command =
  | { op: 'put'; key: Buffer; value: Buffer }
  | { op: 'delete'; key: Buffer }
  /** Set key to value if its value equals expected (null: only if the key is absent). */
  | { op: 'cas'; key: Buffer; expected: Buffer | null; value: Buffer };

/** What applying a Command did; revision is the index of the entry that carried it. */
export type CommandResult =
  | { op: 'put'; revision: number }
  | { op: 'delete'; deleted: boolean; revision: number }
  | { op: 'cas'; swapped: boolean; current: Buffer | null; revision: number };

/** A client write in a log entry: the proposing node's request id (to find its waiter) and the command. */
export interface Request {
  /** Unique per proposing node and process lifetime (e.g. `${nodeId}:${bootNonce}:${counter}`). */
  id: string;
  command: Command;
}

/** A value as stored: the bytes and the index of the write that set them. */
export interface StoredValue {
  value: Buffer;
  modRevision: number;
}

/** What a Ready asks the store to make durable, in one transaction. */
export interface PersistBatch {
  /**
   * Written with the batch when its term or vote is new. One that moves only the commit index is
   * written with a later applied-state write or at close (HardStateWrites): on restart the commit
   * index is at least the applied index.
   */
  hardState: HardState | null;
  entries: Entry[];
  /** A snapshot received from the leader: replaces the KV data, the log and the membership. */
  snapshot: { meta: SnapshotMeta; data: Uint8Array } | null;
}

/** Everything one Ready asks of the store. */
export interface ReadyWrite extends PersistBatch {
  /** Committed entries to apply after the persist. */
  apply: Entry[];
  /**
   * The node has nothing to overlap with this write's fsync (a follower that no client is waiting
   * on): commit it on the event loop, without lmdb-js's writer-thread round trips, whatever its size.
   */
  onLoop?: boolean;
}

/** The result of applying one committed entry: the client write it answers, if any. */
export interface ApplyResult {
  requestId: string | null;
  result: CommandResult | null;
}

/** What writeReady() did at once, and what it still does. */
export interface ReadyWriteOutcome {
  /**
   * The apply results when the entries were applied at once, in memory (visible to reads now,
   * written to LMDB with a later group); null when they are applied inside the write's own
   * transaction (after a snapshot install), and `written` carries them.
   */
  applied: ApplyResult[] | null;
  /**
   * Resolves once the part that must be awaited is done: the persist durable when `sync` asked
   * for it, and the applies committed when `applied` is null (with their results). A write that
   * needs neither resolves at once (with []); if it fails later, the store calls onFatal.
   */
  written: Promise<ApplyResult[]>;
}

/**
 * One node's LMDB environment: the Raft log and hard state (read
 * synchronously by the core through `log`), and the KV state machine.
 */
export interface NodeStore {
  /** The core's view of stable storage; snapshot() describes the current applied state (data empty). */
  readonly log: LogStorage;
  /** Write the batch in one transaction; resolves only once it is flushed to disk (durable). */
  persist(batch: PersistBatch): Promise<void>;
  /**
   * Apply committed entries and write them to LMDB, with the applied index and the membership
   * (conf-change entries) in the same transaction. Returns one result per entry: the
   * CommandResult of a client write, null for no-ops and conf changes. Resolves once
   * committed; the log already holds these entries durably. (For tools and tests: the node
   * uses writeReady, which does not wait for the apply's transaction.)
   */
  apply(entries: Entry[]): Promise<ApplyResult[]>;
  /**
   * One Ready's write: persist (in a transaction shared with the other writes of this
   * event-loop turn), then apply. Applies run in memory at once when they can; see
   * ReadyWriteOutcome.
   */
  writeReady(w: ReadyWrite): ReadyWriteOutcome;
  /** Called once if a write nobody awaits fails (the store refuses writes from then on). */
  onFatal: (error: Error) => void;
  /** The index of the last applied entry. */
  appliedIndex(): number;
  /** Membership as of the applied index, with each member's address from its conf change context. */
  confState(): ConfState;
  /** Member id -> gRPC address, from conf-change contexts (and bootstrap). */
  memberAddresses(): Map<string, string>;
  /** The cluster id recorded by setClusterId (a node that joined a running cluster), or null. */
  clusterId(): string | null;
  /** Record the cluster id durably (resolves once flushed), so a restart keeps using it. */
  setClusterId(id: string): Promise<void>;
  /** The committed value of a key, or null. */
  get(key: Buffer): StoredValue | null;
  /** Keys with the prefix, in byte order, strictly after startAfter, at most limit. */
  range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
  ): { kvs: { key: Buffer; value: StoredValue }[]; more: boolean };
  /**
   * The KV data at applied index `index`, read in one consistent read transaction opened by this
   * call, as chunks no larger than chunkBytes. Throws if the applied index is no longer `index`.
   * Call return() on the iterator if it will not be read to the end (releases the transaction).
   */
  snapshotChunks(index: number, chunkBytes: number): AsyncIterableIterator<Uint8Array>;
  /** Drop log entries up to and including index (which must be applied). */
  compact(index: number): Promise<void>;
  /** Flush and close the environment. */
  close(): Promise<void>;
}
