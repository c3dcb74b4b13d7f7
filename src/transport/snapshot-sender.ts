/**
 * The sending side of InstallSnapshot: streams one snapshot to a peer as
 * chunks of at most `chunkBytes`, waiting for gRPC's flow control between
 * writes so a large snapshot never sits in memory twice, and resolves only
 * when the peer acknowledges the whole snapshot.
 */
import type { ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { deadlineExceeded, unavailable } from '../errors.js';
import type * as wire from '../gen/dkv/raft/v1/raft.js';
import type { RaftTransportClient } from '../gen/dkv/raft/v1/raft.js';
import { asBuffer } from './codec.js';

/** One snapshot transfer. */
export interface SnapshotSendOptions {
  client: RaftTransportClient;
  clusterId: string;
  from: string;
  to: string;
  /** The encoded Snap message (metadata only). */
  header: wire.Message;
  chunks: AsyncIterable<Uint8Array>;
  /** Largest data payload of one chunk; bigger pieces from `chunks` are split. */
  chunkBytes: number;
  /** Fail when the transfer makes no progress (a chunk written, the ack received) for this long. */
  timeoutMs: number;
  /** Called with the call once it is open, so the owner can cancel it on close. */
  onCall(call: { cancel(): void }): void;
}

/** Stream the snapshot and resolve with the byte count the peer acknowledged. */
export async function sendSnapshotChunks(o: SnapshotSendOptions): Promise<number> {
  let settle!: (err: Error | null, ack?: wire.SnapshotAck) => void;
  const done = new Promise<wire.SnapshotAck>((resolve, reject) => {
    settle = (err, ack) => (err ? reject(err) : resolve(ack!));
  });
  // The outcome is awaited below; until then a rejection must not count as unhandled.
  done.catch(() => {});
  let failure: Error | null = null;
  const call: ClientWritableStream<wire.SnapshotChunk> = o.client.installSnapshot(
    (err: ServiceError | null, ack?: wire.SnapshotAck) => {
      if (err) failure ??= unavailable(`InstallSnapshot to '${o.to}' failed: ${err.details || err.message}`);
      settle(failure, ack);
    },
  );
  call.on('error', () => {
    // Also reported through the callback above; the listener keeps it from being uncaught.
  });
  o.onCall(call);

  let timer: NodeJS.Timeout | null = null;
  const progress = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      failure ??= deadlineExceeded(`InstallSnapshot to '${o.to}' made no progress for ${o.timeoutMs} ms`);
      call.cancel();
    }, o.timeoutMs);
    timer.unref();
  };

  /** Write one chunk and wait until the call can take more (or has failed). */
  const write = async (chunk: wire.SnapshotChunk): Promise<void> => {
    const written = new Promise<void>((resolve) => {
      call.write(chunk, () => {
        progress();
        resolve();
      });
    });
    await Promise.race([written, done.then(noop, noop)]);
  };

  let offset = 0;
  let first = true;
  let pending: Buffer | null = null;
  const chunkOf = (data: Buffer, last: boolean): wire.SnapshotChunk => {
    const chunk: wire.SnapshotChunk = {
      clusterId: o.clusterId,
      from: o.from,
      to: o.to,
      header: first ? o.header : undefined,
      offset: String(offset),
      data,
      last,
    };
    first = false;
    offset += data.length;
    return chunk;
  };

  progress();
  try {
    for await (const piece of o.chunks) {
      const buf = asBuffer(piece);
      // Hold one slice back: only the slice after the source ends is marked `last`.
      for (let at = 0; at < buf.length; at += o.chunkBytes) {
        if (pending !== null) await write(chunkOf(pending, false));
        if (failure !== null) throw failure;
        pending = buf.subarray(at, Math.min(at + o.chunkBytes, buf.length));
      }
      if (failure !== null) throw failure;
    }
    await write(chunkOf(pending ?? Buffer.alloc(0), true));
    call.end();
    const ack = await done;
    return Number(ack.receivedBytes);
  } catch (err) {
    call.cancel();
    throw failure ?? err;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function noop(): void {}
