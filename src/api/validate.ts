/**
 * The checks every request passes, whichever protocol brought it: keys,
 * values, prefixes, page sizes, page tokens and read consistency. Messages
 * say what is wrong and, for sizes, what the limit is.
 *
 * Limits (MAX_KEY_BYTES, MAX_VALUE_BYTES) are the storage layer's: a key we
 * accept must be one LMDB can store.
 */
import { invalidArgument } from '../errors.js';
import { Consistency } from '../gen/dkv/v0/kvstore.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../storage/limits.js';
import { ReadConsistency } from './backend.js';

/** The page size of a Range that asks for `limit: 0`. */
export const DEFAULT_RANGE_LIMIT = 100;

/** The largest page a Range returns; larger limits are lowered to it, as the proto documents. */
export const MAX_RANGE_LIMIT = 1000;

/** The sizes a node accepts; an operator may lower them below the storage's hard caps. */
export interface SizeLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** The storage's hard caps, which are also the defaults. */
export const DEFAULT_LIMITS: SizeLimits = { maxKeyBytes: MAX_KEY_BYTES, maxValueBytes: MAX_VALUE_BYTES };

/** Throw INVALID_ARGUMENT unless a key is 1 to limits.maxKeyBytes bytes. */
export function checkKey(key: Uint8Array, field = 'key', limits: SizeLimits = DEFAULT_LIMITS): void {
  if (key.byteLength === 0) throw invalidArgument(`${field} must not be empty`);
  if (key.byteLength > limits.maxKeyBytes) {
    throw invalidArgument(`${field} is ${key.byteLength} bytes; the limit is ${limits.maxKeyBytes}`);
  }
}

/** Throw INVALID_ARGUMENT if a value is over limits.maxValueBytes (an empty value is fine). */
export function checkValue(value: Uint8Array, field = 'value', limits: SizeLimits = DEFAULT_LIMITS): void {
  if (value.byteLength > limits.maxValueBytes) {
    throw invalidArgument(`${field} is ${value.byteLength} bytes; the limit is ${limits.maxValueBytes}`);
  }
}

/** Throw INVALID_ARGUMENT if a Range prefix is longer than any key can be. */
export function checkPrefix(prefix: Uint8Array, limits: SizeLimits = DEFAULT_LIMITS): void {
  if (prefix.byteLength > limits.maxKeyBytes) {
    throw invalidArgument(`prefix is ${prefix.byteLength} bytes; the limit is ${limits.maxKeyBytes}`);
  }
}

/**
 * The CompareAndSwap comparison: the expected value, or null for "only if
 * absent". An expected value alongside expected_absent is a contradiction the
 * client should hear about rather than have silently ignored.
 */
export function casExpectation(expectedValue: Uint8Array, expectedAbsent: boolean): Buffer | null {
  if (expectedAbsent) {
    if (expectedValue.byteLength > 0) {
      throw invalidArgument('expected_value must be empty when expected_absent is true');
    }
    return null;
  }
  checkValue(expectedValue, 'expected_value');
  return Buffer.from(expectedValue.buffer, expectedValue.byteOffset, expectedValue.byteLength);
}

/** The page size to use for a requested Range limit: 0 means DEFAULT_RANGE_LIMIT, at most MAX_RANGE_LIMIT. */
export function rangeLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw invalidArgument(`limit ${limit} is not a page size`);
  if (limit === 0) return DEFAULT_RANGE_LIMIT;
  return Math.min(limit, MAX_RANGE_LIMIT);
}

/**
 * The page token that continues a Range after `lastKey`: the key in unpadded
 * base64url. Opaque to clients; it is only a position, so any node can
 * continue any node's listing.
 */
export function encodePageToken(lastKey: Uint8Array): string {
  return Buffer.from(lastKey.buffer, lastKey.byteOffset, lastKey.byteLength).toString('base64url');
}

const PAGE_TOKEN = /^[A-Za-z0-9_-]*$/;

/**
 * The key a page token continues after, or null for the first page (empty
 * token). A token this server could not have issued for this prefix is
 * INVALID_ARGUMENT, not a silent restart of the listing.
 */
export function decodePageToken(token: string, prefix: Uint8Array): Buffer | null {
  if (token === '') return null;
  if (!PAGE_TOKEN.test(token) || token.length % 4 === 1) {
    throw invalidArgument('page_token is not a token returned by Range');
  }
  const key = Buffer.from(token, 'base64url');
  if (key.byteLength === 0 || key.byteLength > MAX_KEY_BYTES) {
    throw invalidArgument('page_token is not a token returned by Range');
  }
  if (!key.subarray(0, prefix.byteLength).equals(prefix)) {
    throw invalidArgument('page_token belongs to a listing with a different prefix');
  }
  return key;
}

/** A Consistency from its name or number as text (`SERIALIZABLE` or `1`), or null if it is neither. */
export function consistencyFromText(text: string): Consistency | null {
  if (text === 'LINEARIZABLE') return Consistency.LINEARIZABLE;
  if (text === 'SERIALIZABLE') return Consistency.SERIALIZABLE;
  // Go's strconv.Atoi: an optional sign, then decimal digits.
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const number = Number(text);
  return number === Consistency.LINEARIZABLE || number === Consistency.SERIALIZABLE ? number : null;
}

/** The backend's read consistency for a request's Consistency; an unknown number is INVALID_ARGUMENT. */
export function toReadConsistency(consistency: number): ReadConsistency {
  if (consistency === Consistency.LINEARIZABLE) return ReadConsistency.Linearizable;
  if (consistency === Consistency.SERIALIZABLE) return ReadConsistency.Serializable;
  throw invalidArgument(
    `consistency ${consistency} is not a valid value; use LINEARIZABLE (0) or SERIALIZABLE (1)`,
  );
}
