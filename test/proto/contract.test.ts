/**
 * The public contract as the generated code implements it: the gRPC method
 * paths clients call, and the JSON mapping (DESIGN.md §4: grpc-gateway v2's
 * defaults) that ts-proto's toJSON/fromJSON give — including where ts-proto
 * falls short of grpc-gateway, so the REST layer knows what it must add.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterServiceService, Role, StatusResponse } from '../../src/gen/dkv/v0/cluster.js';
import {
  CompareAndSwapRequest,
  CompareAndSwapResponse,
  Consistency,
  DeleteResponse,
  GetRequest,
  GetResponse,
  KVStoreService,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
} from '../../src/gen/dkv/v0/kvstore.js';

/** The shape every grpc-js method definition shares, for assertions. */
interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** Each service's methods as `name → [path, requestStream, responseStream]`. */
function describeService(
  service: Record<string, MethodDefinition>,
): Record<string, [string, boolean, boolean]> {
  return Object.fromEntries(
    Object.entries(service).map(([name, m]) => [name, [m.path, m.requestStream, m.responseStream]]),
  );
}

// ts-proto names the methods of a grpc-js service definition (and of the
// server and client interfaces) in lowerCamelCase; the wire path keeps the
// proto names.
test('KVStore keeps the original package and service name, with unary methods', () => {
  assert.deepEqual(describeService(KVStoreService), {
    put: ['/dkv.v0.KVStore/Put', false, false],
    get: ['/dkv.v0.KVStore/Get', false, false],
    delete: ['/dkv.v0.KVStore/Delete', false, false],
    range: ['/dkv.v0.KVStore/Range', false, false],
    compareAndSwap: ['/dkv.v0.KVStore/CompareAndSwap', false, false],
  });
});

test('ClusterService has unary status and membership methods', () => {
  assert.deepEqual(describeService(ClusterServiceService), {
    status: ['/dkv.v0.ClusterService/Status', false, false],
    memberList: ['/dkv.v0.ClusterService/MemberList', false, false],
    memberAdd: ['/dkv.v0.ClusterService/MemberAdd', false, false],
    memberRemove: ['/dkv.v0.ClusterService/MemberRemove', false, false],
    transferLeadership: ['/dkv.v0.ClusterService/TransferLeadership', false, false],
    shutdown: ['/dkv.v0.ClusterService/Shutdown', false, false],
  });
});

test('the request serializers of the service definitions speak protobuf binary', () => {
  const request = { key: Buffer.from('hello'), value: Buffer.from('world') };
  const bytes = KVStoreService.put.requestSerialize(request);
  assert.deepEqual(PutRequest.decode(bytes), request);
  assert.deepEqual(KVStoreService.put.requestDeserialize(bytes), request);
});

test('toJSON writes bytes as padded standard base64', () => {
  // "hello" needs one '=' of padding; 0xfb 0xff use the two characters that
  // differ between the standard ('+', '/') and URL-safe ('-', '_') alphabets.
  assert.deepEqual(PutRequest.toJSON({ key: Buffer.from('hello'), value: Buffer.from([0xfb, 0xff]) }), {
    key: 'aGVsbG8=',
    value: '+/8=',
  });
});

test('toJSON emits every scalar and enum field, also at its zero value', () => {
  assert.deepEqual(PutRequest.toJSON(PutRequest.create()), { key: '', value: '' });
  assert.deepEqual(PutResponse.toJSON(PutResponse.create()), { message: '', revision: '0' });
  assert.deepEqual(GetResponse.toJSON(GetResponse.create()), { key: '', value: '', revision: '0' });
  assert.deepEqual(DeleteResponse.toJSON(DeleteResponse.create()), { deleted: false, revision: '0' });
  assert.deepEqual(GetRequest.toJSON(GetRequest.create()), { key: '', consistency: 'LINEARIZABLE' });
  assert.deepEqual(CompareAndSwapResponse.toJSON(CompareAndSwapResponse.create()), {
    swapped: false,
    revision: '0',
    currentValue: '',
    currentAbsent: false,
  });
});

test('toJSON writes lowerCamelCase names and enums by name', () => {
  const status = StatusResponse.fromPartial({
    nodeId: 'a',
    role: Role.LEADER,
    term: '3',
    leaderId: 'a',
    commitIndex: '10',
    appliedIndex: '9',
    lastIndex: '11',
    members: [{ id: 'b', address: '127.0.0.1:8080', matchIndex: '10', nextIndex: '11', reachable: true }],
  });
  assert.deepEqual(StatusResponse.toJSON(status), {
    nodeId: 'a',
    role: 'LEADER',
    term: '3',
    leaderId: 'a',
    commitIndex: '10',
    appliedIndex: '9',
    lastIndex: '11',
    members: [
      {
        id: 'b',
        address: '127.0.0.1:8080',
        learner: false,
        matchIndex: '10',
        nextIndex: '11',
        reachable: true,
      },
    ],
  });
});

test('uint64 fields are decimal strings in TypeScript and in JSON, exact beyond 2^53', () => {
  const max = '18446744073709551615';
  const json = PutResponse.toJSON({ message: 'success', revision: max }) as Record<string, unknown>;
  assert.equal(typeof json.revision, 'string');
  assert.deepEqual(json, { message: 'success', revision: max });
  assert.equal(
    PutResponse.decode(PutResponse.encode({ message: 'success', revision: max }).finish()).revision,
    max,
  );
  // Input may be a JSON number or a string, as in proto3 JSON.
  assert.equal(PutResponse.fromJSON({ revision: 42 }).revision, '42');
  assert.equal(PutResponse.fromJSON({ revision: '42' }).revision, '42');
});

test('fromJSON accepts both the lowerCamelCase and the proto name of a field', () => {
  const expected = {
    key: Buffer.from('k'),
    expectedValue: Buffer.from('old'),
    expectedAbsent: false,
    value: Buffer.from('new'),
  };
  const camel = { key: 'aw==', expectedValue: 'b2xk', expectedAbsent: false, value: 'bmV3' };
  const snake = { key: 'aw==', expected_value: 'b2xk', expected_absent: false, value: 'bmV3' };
  assert.deepEqual(CompareAndSwapRequest.fromJSON(camel), expected);
  assert.deepEqual(CompareAndSwapRequest.fromJSON(snake), expected);
  assert.equal(RangeRequest.fromJSON({ page_token: 't' }).pageToken, 't');
  assert.equal(RangeRequest.fromJSON({ pageToken: 't' }).pageToken, 't');
  assert.equal(RangeResponse.fromJSON({ next_page_token: 'n' }).nextPageToken, 'n');
});

test('fromJSON accepts standard and URL-safe base64, padded or not', () => {
  const bytes = Buffer.from([0xfb, 0xff]);
  for (const text of ['+/8=', '+/8', '-_8=', '-_8']) {
    assert.deepEqual(PutRequest.fromJSON({ key: text }).key, bytes, text);
  }
});

test('fromJSON ignores unknown fields and defaults missing ones', () => {
  assert.deepEqual(PutRequest.fromJSON({ key: 'aGVsbG8=', extra: 1 }), {
    key: Buffer.from('hello'),
    value: Buffer.alloc(0),
  });
  assert.equal(GetRequest.fromJSON({ key: 'aGVsbG8=' }).consistency, Consistency.LINEARIZABLE);
  assert.equal(GetRequest.fromJSON({ consistency: 'SERIALIZABLE' }).consistency, Consistency.SERIALIZABLE);
});

// The tests below pin where ts-proto's JSON differs from grpc-gateway v2. They
// are not the API's behaviour: they are what the REST layer must correct, and
// they fail (so the REST layer can be simplified) if a ts-proto upgrade fixes
// them.

test('ts-proto omits empty repeated fields, where grpc-gateway emits []', () => {
  assert.deepEqual(RangeResponse.toJSON(RangeResponse.create()), { nextPageToken: '', revision: '0' });
  assert.equal('members' in (StatusResponse.toJSON(StatusResponse.create()) as object), false);
});

test('ts-proto fromJSON is lenient where grpc-gateway answers 400', () => {
  // Characters outside both base64 alphabets are skipped, not rejected.
  assert.deepEqual(PutRequest.fromJSON({ key: '!!!' }).key, Buffer.alloc(0));
  // A JSON string is coerced with Boolean(): "false" becomes true.
  assert.equal(CompareAndSwapRequest.fromJSON({ expectedAbsent: 'false' }).expectedAbsent, true);
  // Unknown enum names, and enum numbers written as strings, become UNRECOGNIZED (-1).
  assert.equal(GetRequest.fromJSON({ consistency: 'BOGUS' }).consistency, Consistency.UNRECOGNIZED);
  assert.equal(GetRequest.fromJSON({ consistency: '1' }).consistency, Consistency.UNRECOGNIZED);
  // Non-numeric and fractional numbers pass through.
  assert.ok(Number.isNaN(RangeRequest.fromJSON({ limit: 'ten' }).limit));
  assert.equal(RangeRequest.fromJSON({ limit: 1.5 }).limit, 1.5);
  // A non-string where bytes are expected throws a TypeError.
  assert.throws(() => PutRequest.fromJSON({ key: 12 }), TypeError);
});
