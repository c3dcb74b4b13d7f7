/**
 * Query parameters as grpc-gateway v2 reads them: Go's url.ParseQuery (what
 * http.Request.ParseForm runs) and runtime.PopulateQueryParameters
 * (runtime/query.go), with their error messages, so that `?limit=ten` gets
 * the same 400 from dkv as from the original gateway.
 */
import { invalidArgument } from '../errors.js';
import type { Consistency } from '../gen/dkv/v0/kvstore.js';
import { base64Problem, decodeBase64 } from './base64.js';
import { goQuote } from './go-quote.js';
import { consistencyFromText } from './validate.js';

/** Parameter values by name, each name's values in order of appearance. */
export type QueryValues = Map<string, string[]>;

/** A request field a query parameter can set. */
export interface QueryField {
  protoName: string;
  jsonName: string;
  kind: 'bytes' | 'uint32' | 'string' | 'consistency';
}

/** A field value parsed from the query. */
export type QueryFieldValue = Buffer | number | string | Consistency;

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's url.QueryUnescape: '+' is a space, %XX a byte; a bad escape is an error naming it. */
function queryUnescape(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= text.length || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) {
        throw invalidArgument(`invalid URL escape ${goQuote(text.slice(i, i + 3))}`);
      }
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else {
      for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parse a raw query string (no leading '?') as Go's url.ParseQuery, appending
 * to `into` if given (ParseForm puts form-body values before query values).
 * Like ParseQuery it reads every pair and then reports the first error.
 */
export function parseQuery(raw: string, into: QueryValues = new Map()): QueryValues {
  let firstError: unknown = null;
  for (const pair of raw.split('&')) {
    if (pair.includes(';')) {
      firstError ??= invalidArgument('invalid semicolon separator in query');
      continue;
    }
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    try {
      const key = queryUnescape(eq === -1 ? pair : pair.slice(0, eq));
      const value = queryUnescape(eq === -1 ? '' : pair.slice(eq + 1));
      const values = into.get(key);
      if (values) values.push(value);
      else into.set(key, [value]);
    } catch (e) {
      firstError ??= e;
    }
  }
  if (firstError !== null) throw firstError;
  return into;
}

/** Go's strconv.ParseUint(text, 10, 32), with its error text. */
function parseUint32(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new Error(`strconv.ParseUint: parsing ${goQuote(text)}: invalid syntax`);
  const value = Number(text);
  if (value > 0xffffffff) throw new Error(`strconv.ParseUint: parsing ${goQuote(text)}: value out of range`);
  return value;
}

/** One query value parsed for its field, or an Error with the message grpc-gateway would give. */
function parseValue(field: QueryField, text: string): QueryFieldValue {
  switch (field.kind) {
    case 'string':
      return text;
    case 'uint32':
      return parseUint32(text);
    case 'consistency': {
      const consistency = consistencyFromText(text);
      if (consistency === null) throw new Error(`${goQuote(text)} is not a valid value`);
      return consistency;
    }
    case 'bytes': {
      const bytes = decodeBase64(text);
      if (bytes === null) throw new Error(`illegal base64 data at input byte ${base64Problem(text)}`);
      return bytes;
    }
  }
}

/** grpc-gateway's "name[value]" shorthand for map entries: `key[x]=y` means key with values x, y. */
const BRACKETED = /^(.*)\[(.*)\]$/;

/**
 * The request fields set by query parameters, as PopulateQueryParameters
 * fills a message: names are proto or JSON names; unknown ones are ignored;
 * `skip` lists the fields bound by the path, whose parameters are ignored;
 * a field given twice, a dotted path into a scalar, or a bad value is
 * INVALID_ARGUMENT with grpc-gateway's message.
 */
export function populateQuery(
  values: QueryValues,
  fields: readonly QueryField[],
  skip: readonly string[] = [],
): Map<QueryField, QueryFieldValue> {
  const result = new Map<QueryField, QueryFieldValue>();
  for (let [key, vals] of values) {
    const bracketed = BRACKETED.exec(key);
    if (bracketed) {
      key = bracketed[1]!;
      vals = [bracketed[2]!, ...vals];
    }
    const path = key.split('.');
    if (skip.includes(path[0]!)) continue;
    const field = fields.find((f) => f.protoName === path[0]) ?? fields.find((f) => f.jsonName === path[0]);
    if (field === undefined) continue; // perhaps a parameter meant for someone else
    if (path.length > 1) throw invalidArgument(`invalid path: ${goQuote(path[0]!)} is not a message`);
    if (vals.length > 1) {
      throw invalidArgument(`too many values for field ${goQuote(field.protoName)}: ${vals.join(', ')}`);
    }
    try {
      result.set(field, parseValue(field, vals[0]!));
    } catch (e) {
      throw invalidArgument(`parsing field ${goQuote(field.protoName)}: ${(e as Error).message}`);
    }
  }
  return result;
}
