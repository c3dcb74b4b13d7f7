/**
 * Base64 as proto3 JSON reads and writes `bytes`: written as padded standard
 * base64; read in the standard or the URL-safe alphabet, padded or not, with
 * protojson's rules (google.golang.org/protobuf/encoding/protojson
 * unmarshalBytes) — and rejected, not silently skipped like Buffer.from does,
 * when it is not base64.
 */

const STANDARD_ALPHABET = /^[A-Za-z0-9+/]*$/;
const URL_SAFE_ALPHABET = /^[A-Za-z0-9_-]*$/;
const NEWLINES = /[\r\n]/g;

/** Bytes as padded standard base64, the proto3 JSON form of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The bytes a base64 text stands for, or null when it is not valid base64.
 * Like protojson: the URL-safe alphabet if the text has '-' or '_', else the
 * standard one (never a mix); padding exactly when the length is a multiple
 * of 4; CR and LF ignored (Go's decoder skips them).
 */
export function decodeBase64(text: string): Buffer | null {
  return base64Problem(text) === null ? Buffer.from(text.replace(NEWLINES, ''), 'base64') : null;
}

/**
 * Where a text stops being base64 (a 0-based character offset, close to Go's
 * "illegal base64 data at input byte N"), or null if it is valid.
 */
export function base64Problem(text: string): number | null {
  // Go picks the padded decoder by the raw length, newlines included.
  const padded = text.length % 4 === 0;
  const data = text.includes('\n') || text.includes('\r') ? text.replace(NEWLINES, '') : text;
  const urlSafe = data.includes('-') || data.includes('_');
  let end = data.length;
  if (padded) {
    // At most two '=' can ever be needed; a third is caught by the alphabet check.
    if (end > 0 && data.charCodeAt(end - 1) === 0x3d) end--;
    if (end > 0 && data.charCodeAt(end - 1) === 0x3d) end--;
  }
  const body = end === data.length ? data : data.slice(0, end);
  if (!(urlSafe ? URL_SAFE_ALPHABET : STANDARD_ALPHABET).test(body)) {
    return firstIllegal(text, urlSafe, padded);
  }
  // Padded: the '=' must complete the last quantum. Unpadded: a lone
  // trailing character cannot hold a whole byte.
  const lengthOk = padded ? data.length % 4 === 0 && end % 4 !== 1 : end % 4 !== 1;
  return lengthOk ? null : Math.max(0, text.length - 1);
}

/** The offset of the first character outside the alphabet, or of a '=' that is not final padding. */
function firstIllegal(text: string, urlSafe: boolean, padded: boolean): number {
  const alphabet = urlSafe ? URL_SAFE_ALPHABET : STANDARD_ALPHABET;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\n' || char === '\r') continue;
    if (char === '=') {
      const rest = text.slice(i).replace(NEWLINES, '');
      if (padded && (rest === '=' || rest === '==')) continue;
      return i;
    }
    if (!alphabet.test(char)) return i;
  }
  return Math.max(0, text.length - 1);
}
