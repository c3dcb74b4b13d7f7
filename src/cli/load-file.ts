/**
 * The bulk-load file format: one pair per line, either `key=value` (split at
 * the first `=`; see pairSeparator for base64) or a JSON object `{"key": "...", "value": "..."}`; blank lines
 * and lines starting with `#` are skipped. With --base64 the keys and values
 * are base64 in both forms.
 */
import { argBytes, keyArg } from './bytes-arg.js';
import { usageError } from './exit-codes.js';

/** One key-value pair to load. */
export interface LoadPair {
  key: Buffer;
  value: Buffer;
}

/** Parse a whole file first, so a malformed line (exit 2, naming it) stops the load before any write. */
export function parseLoadFile(text: string, base64: boolean, file: string): LoadPair[] {
  const pairs: LoadPair[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    try {
      pairs.push(line.trimStart().startsWith('{') ? jsonPair(line, base64) : equalsPair(line, base64));
    } catch (e) {
      throw usageError(`${where}: ${(e as Error).message}`);
    }
  }
  return pairs;
}

/**
 * Where `key=value` splits: at the first `=`; in base64, at the last `=` of
 * the first run of them, since a base64 key may end in `=` padding and a
 * base64 value never starts with `=`. -1 if there is none.
 */
export function pairSeparator(text: string, base64: boolean): number {
  let eq = text.indexOf('=');
  if (base64 && eq >= 0) while (text[eq + 1] === '=') eq++;
  return eq;
}

function equalsPair(line: string, base64: boolean): LoadPair {
  const eq = pairSeparator(line, base64);
  if (eq < 0) throw new Error('expected key=value or a JSON object {"key","value"}');
  return { key: keyArg(line.slice(0, eq), base64), value: argBytes(line.slice(eq + 1), base64, 'value') };
}

function jsonPair(line: string, base64: boolean): LoadPair {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new Error(`not valid JSON: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new Error('expected a JSON object');
  const { key, value } = obj as Record<string, unknown>;
  if (typeof key !== 'string') throw new Error('"key" must be a string');
  if (value !== undefined && typeof value !== 'string') throw new Error('"value" must be a string');
  return { key: keyArg(key, base64), value: argBytes(value ?? '', base64, 'value') };
}
