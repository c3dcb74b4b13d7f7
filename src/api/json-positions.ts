/**
 * Token positions in a JSON body, for protojson's error messages: protojson
 * says where a bad field is ("(line 1:8): invalid value for bytes field key:
 * \"!!!\"") and quotes the token as written. Only error paths call these;
 * the text is already known to be valid JSON.
 */

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** A top-level member of a JSON object, as protojson's tokens show it in error messages. */
export interface MemberToken {
  /** The member's name, unescaped. */
  name: string;
  /** Where the name's token starts (a UTF-16 offset into the text). */
  namePos: number;
  /** The name's token as written, quotes included. */
  nameRaw: string;
  /** Where the value's token starts. */
  valuePos: number;
  /** The value's first token as written: a whole string, number or literal, or just `{` or `[`. */
  valueRaw: string;
}

/** The offset just past the string token that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

/** The offset just past the value that starts at `start`, nested containers included. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === 0x22) return stringEnd(text, start);
  if (first !== 0x7b && first !== 0x5b) return scalarEnd(text, start);
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

/** The offset just past a number or literal token. */
function scalarEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length && !/[\s,\]}:]/.test(text[i]!)) i++;
  return i;
}

/** The offset of the first non-whitespace character at or after `i`. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The first token of a JSON text as protojson's RawString shows it. */
export function firstTokenRaw(text: string): string {
  const start = skipSpace(text, 0);
  const c = text.charCodeAt(start);
  if (c === 0x7b || c === 0x5b) return text[start]!;
  return text.slice(start, c === 0x22 ? stringEnd(text, start) : scalarEnd(text, start));
}

/**
 * The members of the top-level object of a JSON text already known to be
 * valid, in document order (duplicates included), with token positions for
 * error messages. Only error paths call this.
 */
export function topLevelMembers(text: string): MemberToken[] {
  const members: MemberToken[] = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return members;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === 0x22) {
    const namePos = i;
    const nameEnd = stringEnd(text, i);
    const nameRaw = text.slice(namePos, nameEnd);
    i = skipSpace(text, nameEnd) + 1; // past ':'
    const valuePos = skipSpace(text, i);
    const end = valueEnd(text, valuePos);
    const first = text.charCodeAt(valuePos);
    const valueRaw = first === 0x7b || first === 0x5b ? text[valuePos]! : text.slice(valuePos, end);
    members.push({ name: JSON.parse(nameRaw) as string, namePos, nameRaw, valuePos, valueRaw });
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1);
  }
  return members;
}

/** protojson's "(line L:C)" for an offset: 1-based line, and 1-based column counted in code points. */
export function linePosition(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const lastNewline = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  const column = [...before.slice(lastNewline + 1)].length + 1;
  return { line, column };
}
