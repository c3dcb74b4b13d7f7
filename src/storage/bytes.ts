/**
 * Growable binary writer and bounds-checked reader shared by the storage
 * codecs. Numbers are unsigned varints (LEB128) so small indexes, lengths and
 * terms cost one or two bytes; they are exact up to 2^53 like all our indexes.
 */

/** A malformed encoding: the codecs' callers turn it into a DATA_LOSS error with context. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Appends bytes, varints and length-prefixed fields to a growing buffer. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** How many bytes have been written. */
  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Forget what was written, keeping the buffer for reuse. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** One byte. */
  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  /** A fixed 4-byte big-endian unsigned integer. */
  u32(v: number): this {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** An unsigned varint; v must be a safe non-negative integer. */
  uvarint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`ByteWriter: ${v} is not a safe unsigned integer`);
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Bytes as they are, without a length. */
  raw(b: Uint8Array): this {
    this.reserve(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return this;
  }

  /** A varint length, then the bytes. */
  bytes(b: Uint8Array): this {
    return this.uvarint(b.byteLength).raw(b);
  }

  /** A UTF-8 string with a varint length. */
  string(s: string): this {
    // Straight into the buffer: TextEncoder.encode allocated an array per string (a request id per
    // write, about 1% of a leader's time under load).
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n);
    this.reserve(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
    return this;
  }

  /** The bytes written so far (a view: do not keep it across further writes). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written, sized exactly. */
  finish(): Buffer {
    return Buffer.from(this.view());
  }
}

/** Reads what ByteWriter wrote, throwing DecodeError instead of reading past the end. */
export class ByteReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.byteLength,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** The read position. */
  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      throw new DecodeError(`truncated: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  /** One byte. */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** A fixed 4-byte big-endian unsigned integer. */
  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** An unsigned varint (at most 2^53 - 1). */
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new DecodeError(`varint ${result} is not a safe integer`);
        return result;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`varint longer than 8 bytes at offset ${this.pos}`);
  }

  /** n bytes as a view (no copy) over the underlying buffer. */
  raw(n: number): Buffer {
    this.need(n);
    const out = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  /** A varint length, then that many bytes (a view). */
  bytes(): Buffer {
    return this.raw(this.uvarint());
  }

  /** A UTF-8 string with a varint length. */
  string(): string {
    const b = this.bytes();
    try {
      return decoder.decode(b);
    } catch {
      throw new DecodeError(`invalid UTF-8 string at offset ${this.pos - b.byteLength}`);
    }
  }

  /** Throw unless everything was read: trailing bytes mean a format mismatch. */
  done(): void {
    if (this.pos !== this.end) throw new DecodeError(`${this.end - this.pos} unexpected trailing bytes`);
  }
}
