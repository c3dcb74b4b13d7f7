import { status } from '@grpc/grpc-js';

/** Why a snapshot stream was refused, with the gRPC status to answer. */
export class SnapshotStreamError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotStreamError';
  }
}

/**
 * Collects the data of one InstallSnapshot stream: chunks must arrive at
 * contiguous offsets, and the total is capped so a runaway or hostile sender
 * cannot exhaust the receiver's memory.
 */
export class SnapshotAssembler {
  private readonly parts: Buffer[] = [];
  private received = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.received;
  }

  /** Append the chunk at `offset`; throws SnapshotStreamError on a gap, an overlap or the size cap. */
  add(offset: number, data: Buffer): void {
    if (offset !== this.received) {
      throw new SnapshotStreamError(
        status.FAILED_PRECONDITION,
        `snapshot chunk at offset ${offset}, expected offset ${this.received} (chunks must be contiguous)`,
      );
    }
    if (this.received + data.length > this.maxBytes) {
      throw new SnapshotStreamError(
        status.RESOURCE_EXHAUSTED,
        `snapshot larger than the receiver's limit of ${this.maxBytes} bytes`,
      );
    }
    if (data.length > 0) this.parts.push(data);
    this.received += data.length;
  }

  /** The whole snapshot, as one contiguous array. */
  concat(): Uint8Array {
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.received);
    this.parts.length = 0;
    return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
  }
}
