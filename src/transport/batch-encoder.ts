/**
 * The Send stream's serializer. It writes exactly the bytes of ts-proto's
 * MessageBatch.encode (a test compares them), with three savings on a leader's
 * hot path:
 * - an entry is encoded once: its bytes are kept on the wire entry object,
 *   which the sender shares between the followers it replicates the same
 *   entries to in one send (codec.WireEntries);
 * - the result is a Buffer view of the writer's output, not a copy of it;
 * - the writers are reused: a new BinaryWriter starts at 128 bytes and
 *   doubles as it goes, so every entry (about 180 bytes for a 100-byte value)
 *   paid for two allocations and a copy before its own, and every batch for
 *   one doubling per size step (in the leader's profile, growing buffers was
 *   the protobuf runtime's largest cost).
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as wire from '../gen/dkv/raft/v1/raft.js';

/**
 * A writer kept between encodings (finish() copies out what was written and rewinds it, keeping its
 * buffer), replaced after an output above this size so that one large catch-up batch does not pin
 * its buffer for the life of the process.
 */
const KEEP_WRITER_MAX_BYTES = 1 << 20;

/** A reusable BinaryWriter: `finish` hands out what `encode` wrote. */
class ReusedWriter {
  private writer = new BinaryWriter();

  finish(encode: (w: BinaryWriter) => void): Uint8Array {
    try {
      encode(this.writer);
    } catch (error) {
      this.writer = new BinaryWriter(); // whatever was half written must not lead the next output
      throw error;
    }
    const out = this.writer.finish();
    if (out.byteLength > KEEP_WRITER_MAX_BYTES) this.writer = new BinaryWriter();
    return out;
  }
}

const entryWriter = new ReusedWriter();
const batchWriter = new ReusedWriter();

/** Where a wire entry keeps its encoding once serialized (a property, not a WeakMap: see codec.WireEntries). */
const ENCODED = Symbol('encoded');

type KeptEntry = wire.Entry & { [ENCODED]?: Uint8Array };

function entryEncoding(e: KeptEntry): Uint8Array {
  let bytes = e[ENCODED];
  if (bytes === undefined) {
    bytes = entryWriter.finish((w) => wire.Entry.encode(e, w));
    e[ENCODED] = bytes;
  }
  return bytes;
}

/** ts-proto's Message.encode, field for field, with each entry's bytes from entryEncoding. */
function encodeMessage(m: wire.Message, w: BinaryWriter): BinaryWriter {
  if (m.type !== 0) w.uint32(8).int32(m.type);
  if (m.from !== '') w.uint32(18).string(m.from);
  if (m.to !== '') w.uint32(26).string(m.to);
  if (m.term !== '0') w.uint32(32).uint64(m.term);
  if (m.logTerm !== '0') w.uint32(40).uint64(m.logTerm);
  if (m.index !== '0') w.uint32(48).uint64(m.index);
  // A length-delimited field holding the entry's encoding is the embedded message itself.
  for (const e of m.entries) w.uint32(58).bytes(entryEncoding(e));
  if (m.commit !== '0') w.uint32(64).uint64(m.commit);
  if (m.reject) w.uint32(72).bool(m.reject);
  if (m.rejectHint !== '0') w.uint32(80).uint64(m.rejectHint);
  if (m.logTermHint !== '0') w.uint32(88).uint64(m.logTermHint);
  if (m.snapshotMeta !== undefined) wire.SnapshotMeta.encode(m.snapshotMeta, w.uint32(98).fork()).join();
  if (m.context.length !== 0) w.uint32(106).bytes(m.context);
  return w;
}

/** A MessageBatch in protobuf binary, as MessageBatch.encode writes it. */
export function encodeMessageBatch(batch: wire.MessageBatch): Buffer {
  const out = batchWriter.finish((w) => {
    if (batch.clusterId !== '') w.uint32(10).string(batch.clusterId);
    if (batch.from !== '') w.uint32(18).string(batch.from);
    if (batch.to !== '') w.uint32(26).string(batch.to);
    for (const m of batch.messages) encodeMessage(m, w.uint32(34).fork()).join();
  });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
