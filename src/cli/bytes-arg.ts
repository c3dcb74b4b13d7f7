/**
 * Keys and values on the command line: UTF-8 text by default, base64 with
 * --base64 (for binary data), in both directions.
 */
import { base64Problem, decodeBase64, encodeBase64 } from '../api/base64.js';
import { usageError } from './exit-codes.js';

/** The bytes a command-line key or value stands for; `what` names it in errors (exit 2). */
export function argBytes(text: string, base64: boolean, what: string): Buffer {
  if (!base64) return Buffer.from(text, 'utf8');
  const bytes = decodeBase64(text);
  if (bytes === null) {
    throw usageError(`${what} "${text}" is not valid base64 (--base64), at character ${base64Problem(text)}`);
  }
  return bytes;
}

/** A key argument: like argBytes, and never empty (the store has no empty key). */
export function keyArg(text: string, base64: boolean, what = 'key'): Buffer {
  const key = argBytes(text, base64, what);
  if (key.length === 0) throw usageError(`${what} must not be empty`);
  return key;
}

const utf8 = new TextDecoder('utf-8');

/** Bytes as the CLI prints them: base64 with --base64, else UTF-8 text. */
export function showBytes(bytes: Uint8Array, base64: boolean): string {
  return base64 ? encodeBase64(bytes) : utf8.decode(bytes);
}
