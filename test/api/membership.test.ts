/**
 * ClusterService's membership calls over REST (grpc-gateway v2 mapping) and
 * gRPC, against the in-memory backend: routes, JSON in and out, validation
 * of ids and addresses, and the status codes of the backend's refusals.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FORWARDED_METADATA_KEY } from '../../src/api/backend.js';
import { unavailable } from '../../src/errors.js';
import { MemoryBackend } from './memory-backend.js';
import {
  type GrpcServer,
  grpcFailure,
  REST_KINDS,
  type RestServer,
  rest,
  startGrpc,
  startRest,
  unary,
} from './servers.js';

const A =
  '{"id":"a","address":"127.0.0.1:7070","learner":false,"matchIndex":"11","nextIndex":"12","reachable":true}';
const B =
  '{"id":"b","address":"127.0.0.1:8080","learner":true,"matchIndex":"0","nextIndex":"1","reachable":false}';
const C =
  '{"id":"c","address":"10.0.0.3:7070","learner":true,"matchIndex":"0","nextIndex":"12","reachable":false}';

for (const kind of REST_KINDS) {
  describe(`membership over REST (${kind})`, () => {
    let backend: MemoryBackend;
    let server: RestServer;
    before(async () => {
      backend = new MemoryBackend();
      server = await startRest(backend, { kind });
    });
    after(() => server.close());
    beforeEach(() => Object.assign(backend, new MemoryBackend()));

    test('GET /v0/cluster/members lists every member with the leader id', async () => {
      const r = await rest(server, 'GET', '/v0/cluster/members');
      assert.equal(r.status, 200);
      assert.equal(r.text, `{"leaderId":"a","members":[${A},${B}]}`);
      assert.equal(backend.calls[0]?.op, 'memberList');
    });

    test('POST /v0/cluster/members adds a member; proto names and camelCase both accepted', async () => {
      const r = await rest(server, 'POST', '/v0/cluster/members', {
        body: '{"id":"c","address":"10.0.0.3:7070","unknownField":1}',
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, `{"member":${C},"members":[${A},${B},${C}],"clusterId":"dkv-memory"}`);
      assert.deepEqual(backend.calls.at(-1)?.args, ['c', '10.0.0.3:7070', false]);
      // The same again (a retrying joiner) is a success without change.
      const again = await rest(server, 'POST', '/v0/cluster/members', {
        body: '{"id":"c","address":"10.0.0.3:7070","learner":true}',
      });
      assert.equal(again.status, 200);
      assert.deepEqual(backend.calls.at(-1)?.args, ['c', '10.0.0.3:7070', true]);
      assert.equal((again.json as { members: unknown[] }).members.length, 3);
    });

    test('the same id with another address is FAILED_PRECONDITION: 400 code 9', async () => {
      const r = await rest(server, 'POST', '/v0/cluster/members', {
        body: '{"id":"b","address":"127.0.0.1:9999"}',
      });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, {
        code: 9,
        message: 'member b already exists with address 127.0.0.1:8080',
        details: [],
      });
    });

    test('bad ids and addresses are 400 code 3 naming the problem, before the backend is called', async () => {
      const cases: [string, RegExp][] = [
        ['{"address":"127.0.0.1:1"}', /^id must not be empty$/],
        ['{"id":"bad id","address":"127.0.0.1:1"}', /id "bad id" is not a valid node id/],
        [`{"id":"${'x'.repeat(65)}","address":"127.0.0.1:1"}`, /is not a valid node id: 1 to 64/],
        ['{"id":"c"}', /^address must not be empty/],
        ['{"id":"c","address":"no-port"}', /address "no-port" is not host:port/],
        ['{"id":"c","address":"h:70000"}', /has port 70000; it must be 1 to 65535/],
        ['{"id":5,"address":"h:1"}', /invalid value for string field id: 5/],
        ['{"id":"c","address":"h:1","learner":"yes"}', /invalid value for bool field learner/],
        ['{"id":', /unexpected EOF/],
      ];
      for (const [body, message] of cases) {
        const r = await rest(server, 'POST', '/v0/cluster/members', { body });
        assert.equal(r.status, 400, body);
        const json = r.json as { code: number; message: string };
        assert.equal(json.code, 3, body);
        assert.match(json.message, message, body);
      }
      assert.equal(backend.calls.length, 0);
    });

    test('DELETE /v0/cluster/members/{id} removes; unknown 404, last voter 400 code 9, bad id 400', async () => {
      const removed = await rest(server, 'DELETE', '/v0/cluster/members/b');
      assert.equal(removed.status, 200);
      assert.equal(removed.text, `{"members":[${A}]}`);
      assert.deepEqual(backend.calls.at(-1)?.args, ['b']);

      const unknown = await rest(server, 'DELETE', '/v0/cluster/members/zz');
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.json, { code: 5, message: 'zz is not a member of the cluster', details: [] });

      const last = await rest(server, 'DELETE', '/v0/cluster/members/a');
      assert.equal(last.status, 400);
      assert.equal((last.json as { code: number }).code, 9);
      assert.match((last.json as { message: string }).message, /last voter/);

      const bad = await rest(server, 'DELETE', '/v0/cluster/members/bad%20id');
      assert.equal(bad.status, 400);
      assert.equal((bad.json as { code: number }).code, 3);
      assert.match((bad.json as { message: string }).message, /"bad id" is not a valid node id/);
    });

    test('POST /v0/cluster/leader transfers; term is a string; targetId and target_id both accepted', async () => {
      const r = await rest(server, 'POST', '/v0/cluster/leader', { body: '{"targetId":"b"}' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '{"leaderId":"b","term":"4"}');
      const proto = await rest(server, 'POST', '/v0/cluster/leader', { body: '{"target_id":"a"}' });
      assert.equal(proto.text, '{"leaderId":"a","term":"5"}');
      const any = await rest(server, 'POST', '/v0/cluster/leader', { body: '{}' });
      assert.equal(any.status, 200);
      assert.deepEqual(
        backend.calls.map((c) => c.args),
        [['b'], ['a'], ['']],
      );
      const unknown = await rest(server, 'POST', '/v0/cluster/leader', { body: '{"targetId":"zz"}' });
      assert.equal(unknown.status, 404);
      const bad = await rest(server, 'POST', '/v0/cluster/leader', { body: '{"targetId":"a b"}' });
      assert.equal(bad.status, 400);
      assert.match((bad.json as { message: string }).message, /targetId "a b" is not a valid node id/);
    });

    test('POST /v0/cluster/shutdown answers with the node id (empty body or {}), bad JSON is 400', async () => {
      const r = await rest(server, 'POST', '/v0/cluster/shutdown');
      assert.equal(r.status, 200);
      assert.equal(r.text, '{"nodeId":"a"}');
      assert.equal((await rest(server, 'POST', '/v0/cluster/shutdown', { body: '{}' })).status, 200);
      assert.equal(backend.shutdowns, 2);
      const bad = await rest(server, 'POST', '/v0/cluster/shutdown', { body: '[1]' });
      assert.equal(bad.status, 400);
      assert.equal(backend.shutdowns, 2);
    });

    test('no leader: 503 code 14 with the reason; wrong method 501', async () => {
      backend.fault = unavailable('no leader: an election is in progress or no quorum is reachable');
      const r = await rest(server, 'POST', '/v0/cluster/members', { body: '{"id":"c","address":"h:1"}' });
      assert.equal(r.status, 503);
      assert.deepEqual(r.json, {
        code: 14,
        message: 'no leader: an election is in progress or no quorum is reachable',
        details: [],
      });
      backend.fault = null;
      const wrong = await rest(server, 'PUT', '/v0/cluster/members');
      assert.equal(wrong.status, 501);
      assert.equal((wrong.json as { code: number }).code, 12);
    });
  });
}

describe('membership over gRPC', () => {
  let backend: MemoryBackend;
  let server: GrpcServer;
  before(async () => {
    backend = new MemoryBackend();
    server = await startGrpc(backend);
  });
  after(() => server.close());
  beforeEach(() => Object.assign(backend, new MemoryBackend()));

  test('MemberList, MemberAdd, MemberRemove, TransferLeadership, Shutdown', async () => {
    const cl = server.cluster;
    const list = await unary(cl.memberList.bind(cl), {});
    assert.equal(list.leaderId, 'a');
    assert.deepEqual(
      list.members.map((m) => [m.id, m.learner, m.matchIndex]),
      [
        ['a', false, '11'],
        ['b', true, '0'],
      ],
    );
    const added = await unary(cl.memberAdd.bind(cl), { id: 'c', address: 'c.dkv:7070', learner: false });
    assert.equal(added.clusterId, 'dkv-memory');
    assert.equal(added.member?.id, 'c');
    assert.equal(added.members.length, 3);
    const removed = await unary(cl.memberRemove.bind(cl), { id: 'c' });
    assert.deepEqual(
      removed.members.map((m) => m.id),
      ['a', 'b'],
    );
    assert.deepEqual(await unary(cl.transferLeadership.bind(cl), { targetId: 'b' }), {
      leaderId: 'b',
      term: '4',
    });
    assert.deepEqual(await unary(cl.shutdown.bind(cl), {}), { nodeId: 'a' });
    assert.equal(backend.shutdowns, 1);
  });

  test('error codes: INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND', async () => {
    const cl = server.cluster;
    const invalid = await grpcFailure(
      unary(cl.memberAdd.bind(cl), { id: 'c', address: 'nope', learner: false }),
    );
    assert.deepEqual(invalid, {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'address "nope" is not host:port',
    });
    const conflict = await grpcFailure(
      unary(cl.memberAdd.bind(cl), { id: 'b', address: '1.2.3.4:5', learner: false }),
    );
    assert.equal(conflict.code, grpc.status.FAILED_PRECONDITION);
    const missing = await grpcFailure(unary(cl.memberRemove.bind(cl), { id: 'zz' }));
    assert.equal(missing.code, grpc.status.NOT_FOUND);
  });

  test('a forwarded call is marked so the backend never forwards it again; a direct one is not', async () => {
    const cl = server.cluster;
    const metadata = new grpc.Metadata();
    metadata.set(FORWARDED_METADATA_KEY, '1');
    await new Promise<void>((resolve, reject) =>
      cl.memberList({}, metadata, {}, (error) => (error ? reject(error) : resolve())),
    );
    await unary(cl.memberList.bind(cl), {});
    assert.deepEqual(
      backend.calls.map((c) => c.forwarded),
      [true, false],
    );
  });
});
