import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { validateCommand } from './limits.js';
import type { Command, Request } from './types.js';

/**
 * Client writes as log entry payloads, in a compact binary form (no JSON, no
 * base64: a put costs a few bytes over its key and value):
 *
 *   u8 version (1) | u8 op (1 put, 2 delete, 3 cas) | id: varint len + UTF-8 | key: varint len + bytes
 *   put:    value: varint len + bytes
 *   delete: (nothing)
 *   cas:    u8 hasExpected (0 = key must be absent, 1) | [expected: varint len + bytes] | value: varint len + bytes
 */

const VERSION = 1;
const OP_PUT = 1;
const OP_DELETE = 2;
const OP_CAS = 3;

/**
 * Encode a client write for a log entry. Throws INVALID_ARGUMENT for an empty
 * or oversize key or value: this is the last gate before the log, and an entry
 * the store cannot apply would stop every replica.
 */
export function encodeRequest(r: Request): Uint8Array {
  const c = r.command;
  validateCommand(c);
  const w = new ByteWriter(32 + r.id.length * 3 + c.key.byteLength + ('value' in c ? c.value.byteLength : 0));
  w.u8(VERSION);
  switch (c.op) {
    case 'put':
      w.u8(OP_PUT).string(r.id).bytes(c.key).bytes(c.value);
      break;
    case 'delete':
      w.u8(OP_DELETE).string(r.id).bytes(c.key);
      break;
    case 'cas':
      w.u8(OP_CAS).string(r.id).bytes(c.key);
      if (c.expected === null) w.u8(0);
      else w.u8(1).bytes(c.expected);
      w.bytes(c.value);
      break;
  }
  return w.finish();
}

/**
 * Decode a payload written by encodeRequest. Keys and values are views into
 * `data` (no copy). Throws DecodeError on a malformed payload.
 */
export function decodeRequest(data: Uint8Array): Request {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== VERSION) throw new DecodeError(`unknown request encoding version ${version}`);
  const op = r.u8();
  const id = r.string();
  const key = r.bytes();
  let command: Command;
  switch (op) {
    case OP_PUT:
      command = { op: 'put', key, value: r.bytes() };
      break;
    case OP_DELETE:
      command = { op: 'delete', key };
      break;
    case OP_CAS: {
      const hasExpected = r.u8();
      if (hasExpected > 1) throw new DecodeError(`bad cas expected flag ${hasExpected}`);
      const expected = hasExpected === 1 ? r.bytes() : null;
      command = { op: 'cas', key, expected, value: r.bytes() };
      break;
    }
    default:
      throw new DecodeError(`unknown request op ${op}`);
  }
  r.done();
  return { id, command };
}
