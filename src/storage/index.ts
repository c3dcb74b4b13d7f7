/**
 * The storage layer: one LMDB environment per node holding the Raft log and
 * hard state (read synchronously by the core) and the KV state machine.
 */
export { decodeEntry, encodeEntry } from './entry-codec.js';
export { checkKey, checkValue, MAX_KEY_BYTES, MAX_VALUE_BYTES, validateCommand } from './limits.js';
export { LmdbNodeStore } from './lmdb-node-store.js';
export { type OpenNodeStoreOptions, openNodeStore } from './open-store.js';
export { decodeRequest, encodeRequest } from './request-codec.js';
export * from './types.js';
