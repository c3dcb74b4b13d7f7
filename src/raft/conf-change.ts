import { type ConfChange, ConfChangeType } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encode a membership change as an entry payload. JSON keeps the core free of
 * a protobuf runtime; context travels as base64-free hex.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  let ctx = '';
  for (const b of cc.context) ctx += b.toString(16).padStart(2, '0');
  return encoder.encode(JSON.stringify({ t: cc.type, n: cc.nodeId, c: ctx }));
}

/** Decode a membership change written by encodeConfChange; throws on a malformed payload. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const raw = JSON.parse(decoder.decode(data)) as { t: unknown; n: unknown; c: unknown };
  if (
    typeof raw.n !== 'string' ||
    typeof raw.c !== 'string' ||
    (raw.t !== ConfChangeType.AddNode &&
      raw.t !== ConfChangeType.AddLearner &&
      raw.t !== ConfChangeType.RemoveNode)
  ) {
    throw new Error('raft: malformed conf change entry');
  }
  const context = new Uint8Array(raw.c.length / 2);
  for (let i = 0; i < context.length; i++) context[i] = Number.parseInt(raw.c.slice(2 * i, 2 * i + 2), 16);
  return { type: raw.t, nodeId: raw.n, context };
}
