import { DkvError, ErrorCode } from '../errors.js';
import { type Entry, EntryType } from '../raft/index.js';
import { crc32 } from './crc32.js';

/**
 * Raft log entries as stored in the `log` DB. Key: the index as 8 bytes
 * big-endian, so LMDB's byte order is index order. Value (fixed header, then
 * the payload as is, no JSON):
 *
 *   offset 0  crc32  u32 BE  over bytes 4..end (term, index, type, data)
 *          4  term   u64 BE
 *         12  index  u64 BE  (the key, repeated: catches an entry under the wrong key)
 *         20  type   u8
 *         21  data   rest
 */

const HEADER_BYTES = 21;
const TWO_POW_32 = 0x1_0000_0000;

function writeU64(buf: Buffer, v: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO_POW_32), offset);
  buf.writeUInt32BE(v >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
}

/** The `log` DB key of entry `index`: 8 bytes big-endian. */
export function logKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  writeU64(key, index, 0);
  return key;
}

/** The index a `log` DB key stands for. */
export function logKeyIndex(key: Uint8Array): number {
  const buf = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (buf.byteLength !== 8) throw dataLoss(`raft log key of ${buf.byteLength} bytes is corrupt`);
  return readU64(buf, 0);
}

/** Encode an entry as a checksummed `log` DB value. */
export function encodeEntry(e: Entry): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + e.data.byteLength);
  writeU64(buf, e.term, 4);
  writeU64(buf, e.index, 12);
  buf[20] = e.type;
  buf.set(e.data, HEADER_BYTES);
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0);
  return buf;
}

/**
 * Decode the stored value of entry `index`, verifying its checksum, so a
 * damaged disk stops the node with DATA_LOSS instead of replicating or
 * applying wrong bytes. The data is a view into `raw` (no copy).
 */
export function decodeEntry(index: number, raw: Uint8Array): Entry {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf.byteLength < HEADER_BYTES) {
    throw corrupt(
      index,
      'truncated',
      `${buf.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const stored = buf.readUInt32BE(0);
  const actual = crc32(buf.subarray(4));
  if (stored !== actual) {
    throw corrupt(index, 'checksum mismatch', `stored ${hex(stored)}, computed ${hex(actual)}`);
  }
  const storedIndex = readU64(buf, 12);
  if (storedIndex !== index) throw corrupt(index, 'wrong index', `the entry records index ${storedIndex}`);
  const type = buf[20]!;
  if (type !== EntryType.Normal && type !== EntryType.ConfChange)
    throw corrupt(index, 'unknown type', `type ${type}`);
  return {
    term: readU64(buf, 4),
    index,
    type,
    data: new Uint8Array(buf.buffer, buf.byteOffset + HEADER_BYTES, buf.byteLength - HEADER_BYTES),
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function corrupt(index: number, reason: string, detail: string): DkvError {
  return dataLoss(
    `raft log entry ${index} is corrupt (${reason}): ${detail}; stopping rather than serving wrong data`,
  );
}

function dataLoss(message: string): DkvError {
  return new DkvError(ErrorCode.DataLoss, message);
}
