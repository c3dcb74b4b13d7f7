import zlib from 'node:zlib';

/** The CRC-32 (IEEE 802.3, as zlib computes it) of `data`, continuing from `initial`. */
export type Crc32 = (data: Uint8Array, initial?: number) => number;

let table: Uint32Array | null = null;

/** CRC-32 in plain JS, bit-identical to zlib.crc32: the fallback for Node < 20.15. */
export function crc32Js(data: Uint8Array, initial = 0): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// zlib.crc32 is native and much faster, but only exists from Node 20.15 on
// (package.json allows any Node 20); both give the same value, so data written
// by one is readable by the other.
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data` (continuing from `initial`), native when the runtime has it. */
export const crc32: Crc32 =
  typeof native === 'function' ? (data, initial = 0) => native(data, initial) >>> 0 : crc32Js;
