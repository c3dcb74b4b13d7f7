import type { ConfState, HardState } from '../raft/index.js';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * Records of the `meta` DB, each under its own string key, in small binary
 * encodings (varints and length-prefixed UTF-8). Absent keys mean the zero
 * value of a fresh node.
 */
export const MetaKey = {
  /** The storage format version, so a future layout change is detected on open. */
  format: 'format',
  /** Raft's HardState (term, vote, commit). */
  hardState: 'hardState',
  /** The index and term of the last entry dropped by compaction or replaced by a snapshot. */
  compacted: 'compacted',
  /** The index of the last entry applied to `kv` (written in the same transaction as the KV changes). */
  applied: 'applied',
  /** Voters and learners as of the applied index. */
  confState: 'confState',
  /** Member id -> gRPC address, from conf-change contexts and snapshots. */
  members: 'members',
  /** The id of the cluster this node belongs to, as the cluster told it when it joined. */
  clusterId: 'clusterId',
} as const;

/** The on-disk layout version this code writes and reads. */
export const STORAGE_FORMAT = 1;

/** Encode a HardState: varint term | varint commit | vote as a string. */
export function encodeHardState(hs: HardState): Buffer {
  return new ByteWriter().uvarint(hs.term).uvarint(hs.commit).string(hs.vote).finish();
}

/** Decode encodeHardState's output. */
export function decodeHardState(raw: Uint8Array): HardState {
  const r = new ByteReader(raw);
  const hs = { term: r.uvarint(), commit: r.uvarint(), vote: r.string() };
  r.done();
  return hs;
}

/** Encode an index and its term (the compaction point). */
export function encodeIndexTerm(index: number, term: number): Buffer {
  return new ByteWriter(16).uvarint(index).uvarint(term).finish();
}

/** Decode encodeIndexTerm's output. */
export function decodeIndexTerm(raw: Uint8Array): { index: number; term: number } {
  const r = new ByteReader(raw);
  const it = { index: r.uvarint(), term: r.uvarint() };
  r.done();
  return it;
}

/** Encode a single index (the applied index, the format version). */
export function encodeIndex(index: number): Buffer {
  return new ByteWriter(8).uvarint(index).finish();
}

/** Decode encodeIndex's output. */
export function decodeIndex(raw: Uint8Array): number {
  const r = new ByteReader(raw);
  const index = r.uvarint();
  r.done();
  return index;
}

/** Encode a ConfState: varint count + ids for voters, then the same for learners. */
export function encodeConfState(cs: ConfState): Buffer {
  const w = new ByteWriter();
  w.uvarint(cs.voters.length);
  for (const id of cs.voters) w.string(id);
  w.uvarint(cs.learners.length);
  for (const id of cs.learners) w.string(id);
  return w.finish();
}

/** Decode encodeConfState's output. */
export function decodeConfState(raw: Uint8Array): ConfState {
  const r = new ByteReader(raw);
  const voters = readStrings(r);
  const learners = readStrings(r);
  r.done();
  return { voters, learners };
}

/** Encode member addresses: varint count, then (id, address) string pairs. */
export function encodeMembers(members: ReadonlyMap<string, string>): Buffer {
  const w = new ByteWriter();
  w.uvarint(members.size);
  for (const [id, address] of members) w.string(id).string(address);
  return w.finish();
}

/** Decode encodeMembers's output. */
export function decodeMembers(raw: Uint8Array): Map<string, string> {
  const r = new ByteReader(raw);
  const n = r.uvarint();
  const members = new Map<string, string>();
  for (let i = 0; i < n; i++) members.set(r.string(), r.string());
  r.done();
  return members;
}

function readStrings(r: ByteReader): string[] {
  const n = r.uvarint();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.string());
  return out;
}
