import type { Database, RootDatabase } from 'lmdb';

/**
 * The LMDB handles of one node's environment: the root (environment-wide
 * transactions and flush tracking) and the three named DBs.
 */
export interface LmdbDbs {
  /** The environment; writes go through its transactions, durability through its `flushed`. */
  env: RootDatabase;
  /** Raft log: 8-byte big-endian index -> checksummed entry (entry-codec.ts). */
  log: Database<Buffer, Buffer>;
  /** Hard state, compaction point, applied index, membership (meta-codec.ts). */
  meta: Database<Buffer, string>;
  /** User keys (raw bytes) -> value records (value-codec.ts). */
  kv: Database<Buffer, Buffer>;
}

/** A read transaction pinned with useReadTransaction: a consistent view until done(). */
export type ReadTxn = ReturnType<RootDatabase['useReadTransaction']>;

/** The longest key this LMDB environment accepts (lmdb-js sets it at open; its typings omit it). */
export function lmdbMaxKeySize(env: RootDatabase): number {
  return (env as unknown as { maxKeySize: number }).maxKeySize;
}
