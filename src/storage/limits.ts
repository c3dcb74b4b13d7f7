import { invalidArgument } from '../errors.js';
import type { Command } from './types.js';

/**
 * The largest user key we accept, in bytes. LMDB refuses keys longer than its
 * max key size (1978 bytes with lmdb-js at a 4 KiB page; larger pages allow
 * more) and refuses empty keys; 1024 is a round number that fits every page
 * size lmdb-js uses, so a key we accept can always be stored.
 */
export const MAX_KEY_BYTES = 1024;

/**
 * The largest user value we accept, in bytes. A value travels in one log
 * entry inside one AppendEntries message and one client request; 1 MiB keeps
 * both well below gRPC's default 4 MiB message limit with room for the key,
 * framing and other entries (etcd's default request limit is 1.5 MiB).
 */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** Throw INVALID_ARGUMENT if a command's key or values are empty or over the limits. */
export function validateCommand(command: Command): void {
  checkKey(command.key);
  if (command.op === 'put' || command.op === 'cas') checkValue('value', command.value);
  if (command.op === 'cas' && command.expected !== null) checkValue('expected value', command.expected);
}

/** Throw INVALID_ARGUMENT unless 1 <= key length <= MAX_KEY_BYTES. */
export function checkKey(key: Uint8Array): void {
  if (key.byteLength === 0) throw invalidArgument('key must not be empty');
  if (key.byteLength > MAX_KEY_BYTES) {
    throw invalidArgument(`key is ${key.byteLength} bytes, over the limit of ${MAX_KEY_BYTES} bytes`);
  }
}

/** Throw INVALID_ARGUMENT if a value is over MAX_VALUE_BYTES (empty values are allowed). */
export function checkValue(what: string, value: Uint8Array): void {
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw invalidArgument(`${what} is ${value.byteLength} bytes, over the limit of ${MAX_VALUE_BYTES} bytes`);
  }
}
