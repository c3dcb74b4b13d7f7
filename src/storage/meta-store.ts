import type { Database } from 'lmdb';
import { DkvError, ErrorCode } from '../errors.js';
import { type ConfState, type HardState, NONE } from '../raft/index.js';
import type { ReadTxn } from './lmdb-dbs.js';
import {
  decodeConfState,
  decodeHardState,
  decodeIndex,
  decodeIndexTerm,
  decodeMembers,
  encodeConfState,
  encodeHardState,
  encodeIndex,
  encodeIndexTerm,
  encodeMembers,
  MetaKey,
} from './meta-codec.js';
import type { WriteOp } from './write-queue.js';

/**
 * Typed access to the `meta` DB. Getters read the latest committed state (or
 * the given read transaction, or the write transaction when called inside
 * one); setters must run inside a write transaction callback; the `...Op`
 * methods return the write for a blind write (write-queue.ts) or writeInTxn.
 */
export class MetaStore {
  constructor(private readonly db: Database<Buffer, string>) {}

  /** Raft's persisted HardState (zero for a fresh node). */
  hardState(txn?: ReadTxn): HardState {
    return this.read(MetaKey.hardState, decodeHardState, txn) ?? { term: 0, vote: NONE, commit: 0 };
  }

  /** The index and term of the last entry no longer in the log (0/0 for a fresh node). */
  compacted(txn?: ReadTxn): { index: number; term: number } {
    return this.read(MetaKey.compacted, decodeIndexTerm, txn) ?? { index: 0, term: 0 };
  }

  /** The index of the last entry applied to the KV data. */
  applied(txn?: ReadTxn): number {
    return this.read(MetaKey.applied, decodeIndex, txn) ?? 0;
  }

  /** Voters and learners as of the applied index. */
  confState(txn?: ReadTxn): ConfState {
    return this.read(MetaKey.confState, decodeConfState, txn) ?? { voters: [], learners: [] };
  }

  /** Member id -> gRPC address as of the applied index. */
  members(txn?: ReadTxn): Map<string, string> {
    return this.read(MetaKey.members, decodeMembers, txn) ?? new Map();
  }

  /** The cluster id recorded when this node joined a running cluster, or null. */
  clusterId(): string | null {
    return this.read(MetaKey.clusterId, (raw) => Buffer.from(raw).toString('utf8'));
  }

  /** Record the cluster id (in the current write transaction). */
  setClusterId(id: string): void {
    this.db.putSync(MetaKey.clusterId, Buffer.from(id, 'utf8'));
  }

  /** The storage format version, or null if the store has never been written. */
  format(): number | null {
    return this.read(MetaKey.format, decodeIndex);
  }

  /** Record the storage format version (in the current write transaction). */
  setFormat(version: number): void {
    this.db.putSync(MetaKey.format, encodeIndex(version));
  }

  /** The write of the hard state. */
  hardStateOp(hs: HardState): WriteOp {
    return this.op(MetaKey.hardState, encodeHardState(hs));
  }

  /** The write of the compaction point. */
  compactedOp(index: number, term: number): WriteOp {
    return this.op(MetaKey.compacted, encodeIndexTerm(index, term));
  }

  /** The write of the applied index (to go with the KV changes it reflects). */
  appliedOp(index: number): WriteOp {
    return this.op(MetaKey.applied, encodeIndex(index));
  }

  /** The write of the membership. */
  confStateOp(cs: ConfState): WriteOp {
    return this.op(MetaKey.confState, encodeConfState(cs));
  }

  /** The write of the member addresses. */
  membersOp(members: ReadonlyMap<string, string>): WriteOp {
    return this.op(MetaKey.members, encodeMembers(members));
  }

  private op(key: string, value: Buffer): WriteOp {
    return { db: this.db, key, value };
  }

  private read<T>(key: string, decode: (raw: Uint8Array) => T, txn?: ReadTxn): T | null {
    const raw = txn ? this.db.get(key, { transaction: txn }) : this.db.get(key);
    if (raw === undefined) return null;
    try {
      return decode(raw);
    } catch (err) {
      throw new DkvError(
        ErrorCode.DataLoss,
        `storage meta record '${key}' is corrupt (${(err as Error).message}); stopping rather than serving wrong data`,
      );
    }
  }
}
