/**
 * grpc-gateway v2's JSON for our messages (its default JSONPb marshaler:
 * protojson with EmitUnpopulated and DiscardUnknown). Output: lowerCamelCase
 * names, every field present (also zero values, empty lists as []), `bytes`
 * as padded standard base64, uint64 as decimal strings, enums by name.
 * Input: camelCase or proto names, unknown fields ignored, base64 in either
 * alphabet, padded or not, and every wrong value rejected with protojson's
 * message instead of being coerced (which is what ts-proto's fromJSON does;
 * see test/proto/contract.test.ts).
 */
import { invalidArgument } from '../errors.js';
import type {
  Member,
  MemberAddRequest,
  MemberAddResponse,
  MemberListResponse,
  MemberRemoveResponse,
  ShutdownResponse,
  StatusResponse,
  TransferLeadershipRequest,
  TransferLeadershipResponse,
} from '../gen/dkv/v0/cluster.js';
import { roleToJSON } from '../gen/dkv/v0/cluster.js';
import type {
  CompareAndSwapRequest,
  CompareAndSwapResponse,
  DeleteResponse,
  GetResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeResponse,
} from '../gen/dkv/v0/kvstore.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { scanFirstValue } from './go-json-scanner.js';
import { firstTokenRaw, linePosition, topLevelMembers } from './json-positions.js';
import { scanPutBody } from './put-body-scan.js';

/** A message field that can arrive in a JSON body. */
interface FieldSpec {
  /** The lowerCamelCase JSON name, which protojson uses in its messages. */
  jsonName: string;
  protoName: string;
  kind: 'bytes' | 'bool' | 'string';
}

/** A field's value once decoded. */
type FieldValue = Buffer | boolean | string;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The protojson error prefix. (protojson sometimes writes a no-break space there to deter string matching; we always write a space.) */
const PROTO = 'proto: ';

/** A body's first JSON value with the text it was read from (positions in messages refer to it). */
interface ParsedBody {
  value: unknown;
  text: string;
}

/**
 * Read a body the way grpc-gateway's JSONPb decoder does: its first JSON
 * value, whatever the Content-Type; null for a body of only whitespace
 * (grpc-gateway treats that io.EOF as an empty message). The common case is
 * one JSON.parse; Go's error messages are worked out only on failure.
 */
function parseBody(body: Buffer): ParsedBody | null {
  if (body.length === 0) return null;
  let text: string | null = null;
  try {
    text = utf8.decode(body);
    return { value: JSON.parse(text), text };
  } catch {
    // Fall through to the slow path, which explains the failure.
  }
  const scan = scanFirstValue(body);
  if (scan.kind === 'eof') return null;
  if (scan.kind === 'error') throw invalidArgument(scan.message);
  let first: string;
  try {
    first = utf8.decode(body.subarray(0, scan.end));
  } catch {
    throw invalidArgument(`${PROTO}syntax error: invalid UTF-8 in the request body`);
  }
  // The first value is complete; what follows it is ignored, as Go's Decoder does.
  return { value: JSON.parse(first), text: first };
}

/** protojson's "(line L:C): " for an offset into the value's text (which starts at its first token). */
function at(text: string, pos: number): string {
  const start = text.length - text.trimStart().length;
  const { line, column } = linePosition(text.slice(start), pos - start);
  return `(line ${line}:${column}): `;
}

/** The last member of the body named `name` (JSON.parse keeps the last of duplicates). */
function lastMember(text: string, name: string) {
  const members = topLevelMembers(text).filter((m) => m.name === name);
  return members[members.length - 1]!;
}

/**
 * Decode a JSON body into the given fields as protojson would, with fields
 * not in the body left undefined. Errors name the field by its JSON name,
 * as protojson does: `proto: (line 1:8): invalid value for bytes field key: "!!!"`.
 */
function decodeFields(body: Buffer, fields: readonly FieldSpec[]): Map<FieldSpec, FieldValue> {
  const decoded = new Map<FieldSpec, FieldValue>();
  const parsed = parseBody(body);
  if (parsed === null) return decoded;
  const { value, text } = parsed;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${PROTO}syntax error (line 1:1): unexpected token ${firstTokenRaw(text)}`);
  }
  const object = value as Record<string, unknown>;
  for (const name of Object.keys(object)) {
    const field = fields.find((f) => f.jsonName === name) ?? fields.find((f) => f.protoName === name);
    if (field === undefined) continue; // unknown fields are ignored (DiscardUnknown)
    if (decoded.has(field)) {
      const member = lastMember(text, name);
      throw invalidArgument(`${PROTO}${at(text, member.namePos)}duplicate field ${member.nameRaw}`);
    }
    const raw = object[name];
    // protojson treats null as "not set" for every field of ours.
    if (raw === null) {
      decoded.set(field, field.kind === 'bool' ? false : field.kind === 'string' ? '' : Buffer.alloc(0));
      continue;
    }
    const fieldValue = field.kind === 'bytes' ? (typeof raw === 'string' ? decodeBase64(raw) : null) : raw;
    if (
      fieldValue === null ||
      (field.kind === 'bool' && typeof fieldValue !== 'boolean') ||
      (field.kind === 'string' && typeof fieldValue !== 'string')
    ) {
      const member = lastMember(text, name);
      throw invalidArgument(
        `${PROTO}${at(text, member.valuePos)}invalid value for ${field.kind} field ${field.jsonName}: ${member.valueRaw}`,
      );
    }
    decoded.set(field, fieldValue as FieldValue);
  }
  return decoded;
}

const KEY: FieldSpec = { jsonName: 'key', protoName: 'key', kind: 'bytes' };
const VALUE: FieldSpec = { jsonName: 'value', protoName: 'value', kind: 'bytes' };
const EXPECTED_VALUE: FieldSpec = { jsonName: 'expectedValue', protoName: 'expected_value', kind: 'bytes' };
const EXPECTED_ABSENT: FieldSpec = { jsonName: 'expectedAbsent', protoName: 'expected_absent', kind: 'bool' };
const ID: FieldSpec = { jsonName: 'id', protoName: 'id', kind: 'string' };
const ADDRESS: FieldSpec = { jsonName: 'address', protoName: 'address', kind: 'string' };
const LEARNER: FieldSpec = { jsonName: 'learner', protoName: 'learner', kind: 'bool' };
const TARGET_ID: FieldSpec = { jsonName: 'targetId', protoName: 'target_id', kind: 'string' };
const PUT_FIELDS = [KEY, VALUE] as const;
const MEMBER_ADD_FIELDS = [ID, ADDRESS, LEARNER] as const;
const TRANSFER_FIELDS = [TARGET_ID] as const;
const CAS_FIELDS = [KEY, EXPECTED_VALUE, EXPECTED_ABSENT, VALUE] as const;

const EMPTY = Buffer.alloc(0);

/** A PutRequest from a REST body (`{"key","value"}`): the common shape by one scan, any other generally. */
export function decodePutRequest(body: Buffer): PutRequest {
  return scanPutBody(body) ?? decodePutFields(body);
}

/** A PutRequest from any body protojson reads, or its error. */
export function decodePutFields(body: Buffer): PutRequest {
  const fields = decodeFields(body, PUT_FIELDS);
  return { key: (fields.get(KEY) as Buffer) ?? EMPTY, value: (fields.get(VALUE) as Buffer) ?? EMPTY };
}

/** A CompareAndSwapRequest from a REST body (`{"key","expectedValue","expectedAbsent","value"}`). */
export function decodeCompareAndSwapRequest(body: Buffer): CompareAndSwapRequest {
  const fields = decodeFields(body, CAS_FIELDS);
  return {
    key: (fields.get(KEY) as Buffer) ?? EMPTY,
    expectedValue: (fields.get(EXPECTED_VALUE) as Buffer) ?? EMPTY,
    expectedAbsent: (fields.get(EXPECTED_ABSENT) as boolean) ?? false,
    value: (fields.get(VALUE) as Buffer) ?? EMPTY,
  };
}

/** A MemberAddRequest from a REST body (`{"id","address","learner"}`). */
export function decodeMemberAddRequest(body: Buffer): MemberAddRequest {
  const fields = decodeFields(body, MEMBER_ADD_FIELDS);
  return {
    id: (fields.get(ID) as string) ?? '',
    address: (fields.get(ADDRESS) as string) ?? '',
    learner: (fields.get(LEARNER) as boolean) ?? false,
  };
}

/** A TransferLeadershipRequest from a REST body (`{"targetId"}`). */
export function decodeTransferLeadershipRequest(body: Buffer): TransferLeadershipRequest {
  const fields = decodeFields(body, TRANSFER_FIELDS);
  return { targetId: (fields.get(TARGET_ID) as string) ?? '' };
}

/** Check a body that maps to a message without fields (ShutdownRequest): any JSON object, or nothing. */
export function decodeEmptyRequest(body: Buffer): Record<string, never> {
  decodeFields(body, []);
  return {};
}

// Responses are written by hand, in field-number order like protojson:
// every value is either base64, a decimal string, a boolean or a string that
// JSON.stringify escapes, so no generic serializer is needed on the hot path.

/** PutResponse as grpc-gateway JSON. */
export function encodePutResponse(m: PutResponse): string {
  return `{"message":${JSON.stringify(m.message)},"revision":"${m.revision}"}`;
}

/** GetResponse as grpc-gateway JSON. */
export function encodeGetResponse(m: GetResponse): string {
  return `{"key":"${encodeBase64(m.key)}","value":"${encodeBase64(m.value)}","revision":"${m.revision}"}`;
}

/** DeleteResponse as grpc-gateway JSON. */
export function encodeDeleteResponse(m: DeleteResponse): string {
  return `{"deleted":${m.deleted},"revision":"${m.revision}"}`;
}

/** One KeyValue as grpc-gateway JSON. */
function encodeKeyValue(kv: KeyValue): string {
  return `{"key":"${encodeBase64(kv.key)}","value":"${encodeBase64(kv.value)}","modRevision":"${kv.modRevision}"}`;
}

/** RangeResponse as grpc-gateway JSON (`kvs` is [] when empty, never omitted). */
export function encodeRangeResponse(m: RangeResponse): string {
  return `{"kvs":[${m.kvs.map(encodeKeyValue).join(',')}],"nextPageToken":${JSON.stringify(m.nextPageToken)},"revision":"${m.revision}"}`;
}

/** CompareAndSwapResponse as grpc-gateway JSON. */
export function encodeCompareAndSwapResponse(m: CompareAndSwapResponse): string {
  return `{"swapped":${m.swapped},"revision":"${m.revision}","currentValue":"${encodeBase64(m.currentValue)}","currentAbsent":${m.currentAbsent}}`;
}

/** One Member as grpc-gateway JSON. */
function encodeMember(m: Member): string {
  return `{"id":${JSON.stringify(m.id)},"address":${JSON.stringify(m.address)},"learner":${m.learner},"matchIndex":"${m.matchIndex}","nextIndex":"${m.nextIndex}","reachable":${m.reachable}}`;
}

/** StatusResponse as grpc-gateway JSON (role by name, `members` [] when empty). */
export function encodeStatusResponse(m: StatusResponse): string {
  return (
    `{"nodeId":${JSON.stringify(m.nodeId)},"role":"${roleToJSON(m.role)}","term":"${m.term}",` +
    `"leaderId":${JSON.stringify(m.leaderId)},"commitIndex":"${m.commitIndex}","appliedIndex":"${m.appliedIndex}",` +
    `"lastIndex":"${m.lastIndex}","members":[${m.members.map(encodeMember).join(',')}]}`
  );
}

/** The members as a JSON array. */
function encodeMembers(members: Member[]): string {
  return `[${members.map(encodeMember).join(',')}]`;
}

/** MemberListResponse as grpc-gateway JSON. */
export function encodeMemberListResponse(m: MemberListResponse): string {
  return `{"leaderId":${JSON.stringify(m.leaderId)},"members":${encodeMembers(m.members)}}`;
}

/** MemberAddResponse as grpc-gateway JSON (an unset `member` is null, as EmitUnpopulated writes it). */
export function encodeMemberAddResponse(m: MemberAddResponse): string {
  const member = m.member === undefined ? 'null' : encodeMember(m.member);
  return `{"member":${member},"members":${encodeMembers(m.members)},"clusterId":${JSON.stringify(m.clusterId)}}`;
}

/** MemberRemoveResponse as grpc-gateway JSON. */
export function encodeMemberRemoveResponse(m: MemberRemoveResponse): string {
  return `{"members":${encodeMembers(m.members)}}`;
}

/** TransferLeadershipResponse as grpc-gateway JSON. */
export function encodeTransferLeadershipResponse(m: TransferLeadershipResponse): string {
  return `{"leaderId":${JSON.stringify(m.leaderId)},"term":"${m.term}"}`;
}

/** ShutdownResponse as grpc-gateway JSON. */
export function encodeShutdownResponse(m: ShutdownResponse): string {
  return `{"nodeId":${JSON.stringify(m.nodeId)}}`;
}

/** google.rpc.Status as grpc-gateway's error handler writes it. */
export function encodeErrorBody(body: { code: number; message: string; details: [] }): string {
  return `{"code":${body.code},"message":${JSON.stringify(body.message)},"details":[]}`;
}
