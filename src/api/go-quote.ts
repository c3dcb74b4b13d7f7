/**
 * Go's strconv.Quote, so that error messages about query parameters and JSON
 * syntax read exactly as grpc-gateway (a Go program) writes them.
 */

/** Go's strconv.IsPrint for one code point: letters, marks, numbers, punctuation, symbols and ASCII space. */
function isGoPrintable(codePoint: number, char: string): boolean {
  if (codePoint < 0x80) return codePoint >= 0x20 && codePoint < 0x7f;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char);
}

/** One code point as strconv.Quote escapes it, or as itself when printable. */
function quoteCodePoint(char: string, quote: string): string {
  const codePoint = char.codePointAt(0)!;
  if (char === quote || char === '\\') return `\\${char}`;
  if (isGoPrintable(codePoint, char)) return char;
  switch (char) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
  }
  if (codePoint < 0x20 || codePoint === 0x7f) return `\\x${codePoint.toString(16).padStart(2, '0')}`;
  if (codePoint < 0x10000) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return `\\U${codePoint.toString(16).padStart(8, '0')}`;
}

/** A string in Go's strconv.Quote form: double quotes, Go escapes for what is not printable. */
export function goQuote(text: string): string {
  let out = '"';
  for (const char of text) out += quoteCodePoint(char, '"');
  return `${out}"`;
}

/**
 * One byte as encoding/json's quoteChar shows it in "invalid character ..."
 * messages: single quotes, and a byte >= 0x80 shown as the Latin-1 character
 * of that value, since Go converts the byte, not a decoded rune.
 */
export function goQuoteByte(byte: number): string {
  if (byte === 0x27) return `'\\''`;
  if (byte === 0x22) return `'"'`;
  const quoted = goQuote(String.fromCharCode(byte));
  return `'${quoted.slice(1, -1)}'`;
}
