/**
 * The Send stream's serializer. It writes exactly the bytes of ts-proto's
 * MessageBatch.encode (a test compares them), with two savings on a leader's
 * hot path:
 * - an entry is encoded once: its bytes are kept on the wire entry object,
 *   which the sender shares between the followers it replicates the same
 *   entries to in one send (codec.WireEntries);
 * - the result is a Buffer view of the writer's output, not a copy of it.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as wire from '../gen/dkv/raft/v1/raft.js';

/** Where a wire entry keeps its encoding once serialized (a property, not a WeakMap: see codec.WireEntries). */
const ENCODED = Symbol('encoded');

type KeptEntry = wire.Entry & { [ENCODED]?: Uint8Array };

function entryEncoding(e: KeptEntry): Uint8Array {
  let bytes = e[ENCODED];
  if (bytes === undefined) {
    bytes = wire.Entry.encode(e).finish();
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
  const w = new BinaryWriter();
  if (batch.clusterId !== '') w.uint32(10).string(batch.clusterId);
  if (batch.from !== '') w.uint32(18).string(batch.from);
  if (batch.to !== '') w.uint32(26).string(batch.to);
  for (const m of batch.messages) encodeMessage(m, w.uint32(34).fork()).join();
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
