/**
 * The gRPC API against a real grpc-js server on loopback, called through the
 * generated clients: results, status codes, and deadlines.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ReadConsistency } from '../../src/api/backend.js';
import { deadlineExceeded, unavailable } from '../../src/errors.js';
import { Role } from '../../src/gen/dkv/v0/cluster.js';
import { Consistency } from '../../src/gen/dkv/v0/kvstore.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../../src/storage/limits.js';
import { MemoryBackend } from './memory-backend.js';
import { type GrpcServer, grpcFailure, recordingLog, startGrpc, unary } from './servers.js';

const bytes = (text: string) => Buffer.from(text);

describe('gRPC API', () => {
  let backend: MemoryBackend;
  let server: GrpcServer;
  const recorder = recordingLog();

  before(async () => {
    backend = new MemoryBackend();
    server = await startGrpc(backend, { requestTimeoutMs: 2000, log: recorder.log });
  });
  after(() => server.close());
  beforeEach(() => {
    Object.assign(backend, new MemoryBackend());
    recorder.entries.length = 0;
  });

  const put = (key: string | Buffer, value: string | Buffer) =>
    unary(server.kv.put.bind(server.kv), { key: Buffer.from(key), value: Buffer.from(value) });
  const get = (key: string | Buffer, consistency = Consistency.LINEARIZABLE) =>
    unary(server.kv.get.bind(server.kv), { key: Buffer.from(key), consistency });

  test('Put, Get, Delete', async () => {
    assert.deepEqual(await put('hello', 'world'), { message: 'success', revision: '1' });
    assert.deepEqual(await get('hello'), { key: bytes('hello'), value: bytes('world'), revision: '1' });
    const del = server.kv.delete.bind(server.kv);
    assert.deepEqual(await unary(del, { key: bytes('hello') }), { deleted: true, revision: '2' });
    assert.deepEqual(await unary(del, { key: bytes('hello') }), { deleted: false, revision: '3' });
  });

  test('Get of a missing key is NOT_FOUND naming the key', async () => {
    assert.deepEqual(await grpcFailure(get('nope')), {
      code: GrpcStatus.NOT_FOUND,
      details: 'key not found: bm9wZQ==',
    });
  });

  test('Get passes the consistency; an unknown enum number is INVALID_ARGUMENT', async () => {
    await put('k', 'v');
    await get('k', Consistency.SERIALIZABLE);
    await get('k');
    assert.deepEqual(
      backend.calls.filter((c) => c.op === 'get').map((c) => c.consistency),
      [ReadConsistency.Serializable, ReadConsistency.Linearizable],
    );
    const failure = await grpcFailure(get('k', 7 as Consistency));
    assert.equal(failure.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(failure.details, /consistency 7 is not a valid value/);
  });

  test('Range pages through 250 keys with limit 100', async () => {
    await Promise.all(
      Array.from({ length: 250 }, (_, i) => put(`key-${String(i).padStart(3, '0')}`, `v${i}`)),
    );
    const range = server.kv.range.bind(server.kv);
    const seen: string[] = [];
    const sizes: number[] = [];
    let pageToken = '';
    do {
      const page = await unary(range, { prefix: bytes('key-'), limit: 100, pageToken, consistency: 0 });
      sizes.push(page.kvs.length);
      seen.push(...page.kvs.map((kv) => kv.key.toString()));
      assert.equal(page.revision, '250');
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.deepEqual(
      seen,
      Array.from({ length: 250 }, (_, i) => `key-${String(i).padStart(3, '0')}`),
    );
  });

  test('CompareAndSwap: expectedAbsent creates once; the expected value swaps', async () => {
    const cas = server.kv.compareAndSwap.bind(server.kv);
    const request = (expectedValue: string, expectedAbsent: boolean, value: string) => ({
      key: bytes('k'),
      expectedValue: bytes(expectedValue),
      expectedAbsent,
      value: bytes(value),
    });
    assert.deepEqual(await unary(cas, request('', true, 'v1')), {
      swapped: true,
      revision: '1',
      currentValue: Buffer.alloc(0),
      currentAbsent: false,
    });
    assert.deepEqual(await unary(cas, request('', true, 'v2')), {
      swapped: false,
      revision: '2',
      currentValue: bytes('v1'),
      currentAbsent: false,
    });
    assert.deepEqual(await unary(cas, request('v1', false, 'v3')), {
      swapped: true,
      revision: '3',
      currentValue: Buffer.alloc(0),
      currentAbsent: false,
    });
    assert.equal((await get('k')).value.toString(), 'v3');
  });

  test('Status reports every field', async () => {
    const status = await unary(server.cluster.status.bind(server.cluster), {});
    assert.equal(status.nodeId, 'a');
    assert.equal(status.role, Role.LEADER);
    assert.equal(status.term, '3');
    assert.equal(status.members.length, 2);
    assert.equal(status.members[1]?.learner, true);
  });

  test('bad input is INVALID_ARGUMENT with the same messages as REST', async () => {
    assert.deepEqual(await grpcFailure(put('', 'v')), {
      code: GrpcStatus.INVALID_ARGUMENT,
      details: 'key must not be empty',
    });
    assert.deepEqual(await grpcFailure(put(Buffer.alloc(MAX_KEY_BYTES + 1), 'v')), {
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `key is ${MAX_KEY_BYTES + 1} bytes; the limit is ${MAX_KEY_BYTES}`,
    });
    assert.deepEqual(await grpcFailure(put('k', Buffer.alloc(MAX_VALUE_BYTES + 1))), {
      code: GrpcStatus.INVALID_ARGUMENT,
      details: `value is ${MAX_VALUE_BYTES + 1} bytes; the limit is ${MAX_VALUE_BYTES}`,
    });
    assert.equal(backend.calls.length, 0);
  });

  test('backend errors map to UNAVAILABLE, DEADLINE_EXCEEDED and a generic INTERNAL', async () => {
    backend.fault = unavailable('no leader');
    assert.deepEqual(await grpcFailure(put('k', 'v')), {
      code: GrpcStatus.UNAVAILABLE,
      details: 'no leader',
    });
    backend.fault = deadlineExceeded('not committed in time');
    assert.deepEqual(await grpcFailure(put('k', 'v')), {
      code: GrpcStatus.DEADLINE_EXCEEDED,
      details: 'not committed in time',
    });
    backend.fault = new TypeError('cannot read properties of undefined (reading "secret")');
    assert.deepEqual(await grpcFailure(get('k')), { code: GrpcStatus.INTERNAL, details: 'internal error' });
    assert.deepEqual(await grpcFailure(unary(server.cluster.status.bind(server.cluster), {})), {
      code: GrpcStatus.INTERNAL,
      details: 'internal error',
    });
    assert.equal(recorder.entries.length, 2);
    assert.match(JSON.stringify(recorder.entries[0]), /secret/);
  });

  test("the client's deadline bounds the backend call; without one, the default timeout does", async () => {
    const start = Date.now();
    await unary(
      server.kv.put.bind(server.kv),
      { key: bytes('k'), value: bytes('v') },
      { deadline: start + 300 },
    );
    // gRPC sends a deadline as a relative timeout, so it arrives within a few milliseconds.
    assert.ok(Math.abs(backend.calls[0]!.deadlineMs - (start + 300)) < 50);
    await put('k', 'v');
    const defaulted = backend.calls[1]!.deadlineMs;
    assert.ok(defaulted >= start + 2000 && defaulted <= Date.now() + 2000);

    backend.stall = true;
    const quick = Date.now();
    const bounded = await grpcFailure(
      unary(server.kv.get.bind(server.kv), { key: bytes('k'), consistency: 0 }, { deadline: quick + 100 }),
    );
    assert.equal(bounded.code, GrpcStatus.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - quick < 1000);
  });
});
