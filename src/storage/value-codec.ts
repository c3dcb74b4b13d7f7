import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import type { StoredValue } from './types.js';

/**
 * User values as stored in the `kv` DB: u8 version (1) | varint modRevision |
 * the value bytes as they are (no length: the record ends with the value).
 */

const VERSION = 1;

/** Encode a value and the index of the write that set it. */
export function encodeStoredValue(value: Uint8Array, modRevision: number): Buffer {
  return new ByteWriter(10 + value.byteLength).u8(VERSION).uvarint(modRevision).raw(value).finish();
}

/** Decode a `kv` DB record; the value is a view into `raw`. Throws DecodeError if malformed. */
export function decodeStoredValue(raw: Uint8Array): StoredValue {
  const r = new ByteReader(raw);
  const version = r.u8();
  if (version !== VERSION) throw new DecodeError(`unknown stored value version ${version}`);
  const modRevision = r.uvarint();
  return { modRevision, value: r.raw(r.remaining) };
}
