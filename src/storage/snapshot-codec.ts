import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { crc32 } from './crc32.js';

/**
 * The byte stream of a state-machine snapshot, as the transport carries it in
 * chunks (records may straddle chunks; only the concatenation is parsed):
 *
 *   header   "DKVS" | u8 version (1) | varint applied index
 *   records  u8 tag 1 = member: id string | address string
 *            u8 tag 2 = kv:     key bytes  | varint modRevision | value bytes
 *   trailer  u8 tag 0 | varint number of kv records | u32 BE crc32 of every byte before it
 *
 * Strings and bytes are varint length + bytes. The checksum catches a stream
 * that was cut short or damaged between the leader's disk and ours.
 */

const MAGIC = Buffer.from('DKVS');
const VERSION = 1;
const TAG_END = 0;
const TAG_MEMBER = 1;
const TAG_KV = 2;

/** Builds the snapshot stream record by record and cuts it into chunks of at most chunkBytes. */
export class SnapshotEncoder {
  private readonly ready: Uint8Array[] = [];
  private chunk: Buffer;
  private used = 0;
  private crc = 0;
  private kvCount = 0;
  private finished = false;
  private readonly scratch = new ByteWriter(256);

  constructor(
    index: number,
    private readonly chunkBytes: number,
  ) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1)
      throw new Error(`snapshot: bad chunk size ${chunkBytes}`);
    this.chunk = Buffer.allocUnsafe(chunkBytes);
    this.write(new ByteWriter(16).raw(MAGIC).u8(VERSION).uvarint(index).view());
  }

  /** Add a member's address. */
  addMember(id: string, address: string): void {
    this.record(this.scratchWriter().u8(TAG_MEMBER).string(id).string(address));
  }

  /** Add a key with its value and modRevision. */
  addKv(key: Uint8Array, modRevision: number, value: Uint8Array): void {
    this.kvCount++;
    // Large values go straight to the chunks instead of through the scratch buffer.
    this.record(this.scratchWriter().u8(TAG_KV).bytes(key).uvarint(modRevision).uvarint(value.byteLength));
    this.write(value);
  }

  /** Write the trailer; the last (possibly short) chunk becomes ready. */
  finish(): void {
    this.record(this.scratchWriter().u8(TAG_END).uvarint(this.kvCount));
    const crc = Buffer.allocUnsafe(4);
    crc.writeUInt32BE(this.crc >>> 0, 0);
    this.write(crc);
    if (this.used > 0) this.ready.push(this.chunk.subarray(0, this.used));
    this.used = 0;
    this.finished = true;
  }

  /** Bytes waiting in full chunks, not yet taken. */
  get readyBytes(): number {
    let n = 0;
    for (const c of this.ready) n += c.byteLength;
    return n;
  }

  /** Hand over the complete chunks (all chunks once finished). */
  take(): Uint8Array[] {
    return this.ready.splice(0, this.ready.length);
  }

  private scratchWriter(): ByteWriter {
    if (this.finished) throw new Error('snapshot: encoder already finished');
    return this.scratch.reset();
  }

  private record(w: ByteWriter): void {
    this.write(w.view());
  }

  private write(bytes: Uint8Array): void {
    this.crc = crc32(bytes, this.crc);
    let off = 0;
    while (off < bytes.byteLength) {
      const n = Math.min(this.chunkBytes - this.used, bytes.byteLength - off);
      this.chunk.set(bytes.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === this.chunkBytes) {
        this.ready.push(this.chunk);
        this.chunk = Buffer.allocUnsafe(this.chunkBytes);
        this.used = 0;
      }
    }
  }
}

/** One record of a decoded snapshot. */
export type SnapshotRecord =
  | { kind: 'member'; id: string; address: string }
  | { kind: 'kv'; key: Buffer; modRevision: number; value: Buffer };

/**
 * Check a whole snapshot stream (magic, version, checksum) and return its
 * applied index and a lazy reader of its records (views into `data`). Throws
 * DecodeError if it is malformed, also from the iterator.
 */
export function decodeSnapshot(data: Uint8Array): {
  index: number;
  records: () => Generator<SnapshotRecord>;
} {
  if (data.byteLength < MAGIC.byteLength + 1 + 1 + 2 + 4) {
    throw new DecodeError(`snapshot of ${data.byteLength} bytes is too short`);
  }
  const body = data.byteLength - 4;
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stored = view.readUInt32BE(body);
  const actual = crc32(view.subarray(0, body));
  if (stored !== actual)
    throw new DecodeError('snapshot checksum mismatch (truncated or damaged in transit)');
  const r = new ByteReader(view, 0, body);
  if (!r.raw(MAGIC.byteLength).equals(MAGIC)) throw new DecodeError('not a dkv snapshot (bad magic)');
  const version = r.u8();
  if (version !== VERSION) throw new DecodeError(`unknown snapshot version ${version}`);
  const index = r.uvarint();
  const recordsStart = r.offset;
  function* records(): Generator<SnapshotRecord> {
    const r = new ByteReader(view, recordsStart, body);
    let kvCount = 0;
    for (;;) {
      const tag = r.u8();
      switch (tag) {
        case TAG_MEMBER:
          yield { kind: 'member', id: r.string(), address: r.string() };
          break;
        case TAG_KV: {
          kvCount++;
          yield { kind: 'kv', key: r.bytes(), modRevision: r.uvarint(), value: r.bytes() };
          break;
        }
        case TAG_END: {
          const expected = r.uvarint();
          if (expected !== kvCount)
            throw new DecodeError(`snapshot has ${kvCount} keys, trailer says ${expected}`);
          r.done();
          return;
        }
        default:
          throw new DecodeError(`unknown snapshot record tag ${tag}`);
      }
    }
  }
  return { index, records };
}
