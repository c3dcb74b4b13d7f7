/**
 * Byte-order key bounds for prefix scans over the `kv` DB.
 */

/**
 * The smallest key greater than every key with this prefix (exclusive end of a
 * prefix scan), or null when there is none (empty or all-0xff prefix: scan to the end).
 */
export function prefixEnd(prefix: Uint8Array): Buffer | null {
  for (let i = prefix.byteLength - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return null;
}

/** Whether key starts with prefix. */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.byteLength < prefix.byteLength) return false;
  return Buffer.compare(key.subarray(0, prefix.byteLength), prefix) === 0;
}
