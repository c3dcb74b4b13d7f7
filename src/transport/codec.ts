/**
 * Conversion between the consensus core's Message and the wire Message of
 * proto/dkv/raft/v1. The two mirror each other field for field; the codec
 * only changes representations (JS numbers <-> uint64 decimal strings,
 * Uint8Array <-> Buffer) and adds/verifies each entry's CRC32C, so a bit flip
 * between two nodes can never put a corrupt entry into a log.
 */
import { DkvError, ErrorCode } from '../errors.js';
import * as wire from '../gen/dkv/raft/v1/raft.js';
import {
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  type EntryType,
  isLocalMessage,
  type Message,
  MessageType,
  type SnapshotMeta,
} from '../raft/index.js';
import { crc32c } from './crc32c.js';

/** Why a received wire message could not be turned into a core message. */
export type DecodeProblem =
  /** An entry's data does not match its checksum: the whole batch must be dropped. */
  | 'checksum_mismatch'
  /** A field holds a value the core cannot represent (uint64 past 2^53, unknown enum, missing metadata). */
  | 'malformed'
  /** A local-only or unknown message type: drop that message, keep the rest. */
  | 'not_a_network_message';

/** A received wire message that must not reach the core; `problem` says how much to drop. */
export class DecodeError extends DkvError {
  constructor(
    readonly problem: DecodeProblem,
    message: string,
  ) {
    super(problem === 'checksum_mismatch' ? ErrorCode.DataLoss : ErrorCode.InvalidArgument, message);
    this.name = 'DecodeError';
  }
}

/** A zero-copy Buffer view of a Uint8Array (ts-proto's types want Buffer; the bytes are the same). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array view of received bytes, so decoded messages have exactly the core's types. */
function asBytes(buf: Buffer): Uint8Array {
  return buf.length === 0 ? EMPTY_BYTES : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A term or index as a uint64 string; anything else is a bug in the caller. */
function u64(n: number, field: string): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`transport codec: ${field} = ${n} is not a uint64`);
  return String(n);
}

/** A received uint64 as a JS number; the core cannot represent values past 2^53. */
function num(s: string, field: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new DecodeError('malformed', `${field} = ${s} is out of range`);
  return n;
}

/** A core entry on the wire, with the CRC32C of its data. */
export function encodeEntry(e: Entry): wire.Entry {
  return {
    term: u64(e.term, 'entry.term'),
    index: u64(e.index, 'entry.index'),
    type: e.type as number as wire.EntryType,
    data: asBuffer(e.data),
    checksum: crc32c(e.data),
  };
}

/**
 * Wire entries made during one send: a leader hands the same entry objects (core entries never
 * change once made) to every follower in one Ready, so each is checksummed and converted once,
 * and batch-encoder then encodes the shared wire entry once. A Map that lives for one call keeps
 * nothing past the send; a WeakMap keyed by every entry would have the GC track thousands of
 * short-lived keys a second.
 */
export type WireEntries = Map<Entry, wire.Entry>;

function encodeEntryOnce(e: Entry, done: WireEntries): wire.Entry {
  let w = done.get(e);
  if (w === undefined) {
    w = encodeEntry(e);
    done.set(e, w);
  }
  return w;
}

/** A wire entry as a core entry, after checking its checksum. */
export function decodeEntry(e: wire.Entry): Entry {
  const index = num(e.index, 'entry.index');
  const actual = crc32c(e.data);
  if (actual !== e.checksum) {
    throw new DecodeError(
      'checksum_mismatch',
      `entry ${index}: checksum ${e.checksum} does not match its data (crc32c ${actual})`,
    );
  }
  if (e.type !== wire.EntryType.ENTRY_TYPE_NORMAL && e.type !== wire.EntryType.ENTRY_TYPE_CONF_CHANGE) {
    throw new DecodeError('malformed', `entry ${index}: unknown entry type ${e.type}`);
  }
  return {
    term: num(e.term, 'entry.term'),
    index,
    type: e.type as number as EntryType,
    data: asBytes(e.data),
  };
}

/** Snapshot metadata on the wire. */
export function encodeSnapshotMeta(meta: SnapshotMeta): wire.SnapshotMeta {
  return {
    index: u64(meta.index, 'snapshot.index'),
    term: u64(meta.term, 'snapshot.term'),
    confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
  };
}

/** Wire snapshot metadata as the core's (an absent conf state is an empty one, as proto3 encodes it). */
export function decodeSnapshotMeta(meta: wire.SnapshotMeta): SnapshotMeta {
  const confState: ConfState = {
    voters: [...(meta.confState?.voters ?? [])],
    learners: [...(meta.confState?.learners ?? [])],
  };
  return { index: num(meta.index, 'snapshot.index'), term: num(meta.term, 'snapshot.term'), confState };
}

/**
 * A core message on the wire. Local-only types never cross the network and
 * a Snap message must carry its snapshot metadata: either mistake is a bug
 * in the caller, so it throws. A Snap's data is not encoded here; it travels
 * in InstallSnapshot chunks.
 */
export function encodeMessage(m: Message): wire.Message {
  return toWire(m, encodeEntry);
}

/** encodeMessage, with the wire entries of one send shared between the messages that carry them. */
export function encodeMessageSharingEntries(m: Message, done: WireEntries): wire.Message {
  return toWire(m, (e) => encodeEntryOnce(e, done));
}

function toWire(m: Message, wireEntry: (e: Entry) => wire.Entry): wire.Message {
  if (isLocalMessage(m.type) || MessageType[m.type] === undefined) {
    throw new Error(`transport codec: message type ${MessageType[m.type] ?? m.type} is local, never sent`);
  }
  const isSnap = m.type === MessageType.Snap;
  if (isSnap !== (m.snapshot !== null)) {
    throw new Error(
      `transport codec: a ${MessageType[m.type]} message ${isSnap ? 'needs' : 'cannot carry'} a snapshot`,
    );
  }
  return {
    type: m.type as number as wire.MessageType,
    from: m.from,
    to: m.to,
    term: u64(m.term, 'term'),
    logTerm: u64(m.logTerm, 'logTerm'),
    index: u64(m.index, 'index'),
    entries: m.entries.map(wireEntry),
    commit: u64(m.commit, 'commit'),
    reject: m.reject,
    rejectHint: u64(m.rejectHint, 'rejectHint'),
    logTermHint: u64(m.logTermHint, 'logTermHint'),
    snapshotMeta: m.snapshot === null ? undefined : encodeSnapshotMeta(m.snapshot.meta),
    context: asBuffer(m.context),
  };
}

/**
 * A wire message as a core message. Throws DecodeError: `not_a_network_message`
 * for local-only or unknown types (drop the message), `checksum_mismatch` or
 * `malformed` otherwise (drop the whole batch). A Snap comes back with empty
 * snapshot data; the InstallSnapshot receiver fills it in.
 */
export function decodeMessage(p: wire.Message): Message {
  const type = p.type as number as MessageType;
  if (MessageType[type] === undefined || isLocalMessage(type)) {
    throw new DecodeError(
      'not_a_network_message',
      `message type ${MessageType[type] ?? p.type} from ${p.from} is not a network message`,
    );
  }
  const isSnap = type === MessageType.Snap;
  if (isSnap !== (p.snapshotMeta !== undefined)) {
    throw new DecodeError(
      'malformed',
      `a ${MessageType[type]} message ${isSnap ? 'needs' : 'cannot carry'} snapshot metadata`,
    );
  }
  return {
    type,
    from: p.from,
    to: p.to,
    term: num(p.term, 'term'),
    logTerm: num(p.logTerm, 'logTerm'),
    index: num(p.index, 'index'),
    entries: p.entries.map(decodeEntry),
    commit: num(p.commit, 'commit'),
    reject: p.reject,
    rejectHint: num(p.rejectHint, 'rejectHint'),
    logTermHint: num(p.logTermHint, 'logTermHint'),
    snapshot:
      p.snapshotMeta === undefined ? null : { meta: decodeSnapshotMeta(p.snapshotMeta), data: EMPTY_BYTES },
    context: asBytes(p.context),
  };
}

/** Rough encoded size of a message, for splitting batches below gRPC's message limit (over-estimates). */
export function estimateMessageBytes(m: Message): number {
  let n = 96 + m.from.length + m.to.length + m.context.length;
  for (const e of m.entries) n += 40 + e.data.length;
  return n;
}
