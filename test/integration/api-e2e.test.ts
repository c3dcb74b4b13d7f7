import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ClusterServiceClient, Role } from '../../src/gen/dkv/v0/cluster.js';
import { Consistency, KVStoreClient } from '../../src/gen/dkv/v0/kvstore.js';
import { grpcFailure, unary } from '../api/servers.js';
import { b64, TestCluster } from './harness.js';

// The API answers of the real daemon, over REST and gRPC, on a live three-node cluster.
describe('the client API of real dkv processes', () => {
  let c: TestCluster;
  const clients: grpc.Client[] = [];
  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
  });
  after(async () => {
    for (const cl of clients) cl.close();
    await c?.stop();
  });

  const kv = (id: string) => {
    const cl = new KVStoreClient(`127.0.0.1:${c.node(id).rpcPort}`, grpc.credentials.createInsecure());
    clients.push(cl);
    return cl;
  };

  test('REST error answers: 404 code 5, 400 code 3 naming the problem, JSON 404 route, 501 code 12', async () => {
    const a = c.node('a');
    const missing = await c.rest(
      a,
      'GET',
      `/v0/kv/key/${Buffer.from('never-written').toString('base64url')}`,
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 5);
    assert.match(String(missing.body.message), /key not found/);
    assert.deepEqual(missing.body.details, []);

    const badB64 = await c.rest(a, 'POST', '/v0/kv', '{"key":"!!!","value":"d29ybGQ="}');
    assert.equal(badB64.status, 400);
    assert.equal(badB64.body.code, 3);
    assert.match(String(badB64.body.message), /key/);

    const empty = await c.rest(a, 'POST', '/v0/kv', { key: '', value: b64('v') });
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.message), /key must not be empty/);

    const big = await c.rest(a, 'POST', '/v0/kv', {
      key: b64('big'),
      value: Buffer.alloc(1024 * 1024 + 1).toString('base64'),
    });
    assert.equal(big.status, 400);
    assert.match(String(big.body.message), /1048576/);

    const malformed = await c.rest(a, 'POST', '/v0/kv', '{"key": "aGVsbG8=",');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 3);

    const route = await c.rest(a, 'GET', '/v0/nothing-here');
    assert.equal(route.status, 404);
    assert.equal(route.body.code, 5);

    const method = await c.rest(a, 'PUT', '/v0/kv', '{}');
    assert.equal(method.status, 501);
    assert.equal(method.body.code, 12);

    // None of that wrote anything or hurt the node.
    assert.equal((await c.put(a, 'still-fine', 'yes')).status, 200);
  });

  test('gRPC: a put on a follower is read on every node; compare-and-swap, delete, range and status', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const f = kv(follower.id);
    const key = Buffer.from('grpc-key');
    const put = await unary(f.put.bind(f), { key, value: Buffer.from('one') });
    assert.equal(put.message, 'success');
    assert.ok(Number(put.revision) > 0);
    for (const n of c.nodes) {
      const cl = kv(n.id);
      const got = await unary(cl.get.bind(cl), { key, consistency: Consistency.LINEARIZABLE });
      assert.equal(Buffer.from(got.value).toString(), 'one', `read on ${n.id}`);
    }
    const lost = await unary(f.compareAndSwap.bind(f), {
      key,
      expectedValue: Buffer.from('zero'),
      expectedAbsent: false,
      value: Buffer.from('two'),
    });
    assert.equal(lost.swapped, false);
    assert.equal(Buffer.from(lost.currentValue).toString(), 'one');
    const won = await unary(f.compareAndSwap.bind(f), {
      key,
      expectedValue: Buffer.from('one'),
      expectedAbsent: false,
      value: Buffer.from('two'),
    });
    assert.equal(won.swapped, true);
    const range = await unary(f.range.bind(f), {
      prefix: Buffer.from('grpc-'),
      limit: 10,
      pageToken: '',
      consistency: Consistency.LINEARIZABLE,
    });
    assert.deepEqual(
      range.kvs.map((x) => `${Buffer.from(x.key)}=${Buffer.from(x.value)}`),
      ['grpc-key=two'],
    );
    const del = await unary(f.delete.bind(f), { key });
    assert.equal(del.deleted, true);
    const gone = await grpcFailure(unary(f.get.bind(f), { key, consistency: Consistency.LINEARIZABLE }));
    assert.equal(gone.code, grpc.status.NOT_FOUND);
    const cs = new ClusterServiceClient(`127.0.0.1:${leader.rpcPort}`, grpc.credentials.createInsecure());
    clients.push(cs);
    const st = await unary(cs.status.bind(cs), {});
    assert.equal(st.role, Role.LEADER);
    assert.equal(st.nodeId, leader.id);
    assert.equal(st.members.length, 3);
    assert.ok(
      st.members.every((m) => Number(m.matchIndex) > 0),
      'the leader reports every member replicated',
    );
  });

  test('gRPC: bad input is INVALID_ARGUMENT naming the problem', async () => {
    const a = kv('a');
    const e = await grpcFailure(unary(a.put.bind(a), { key: Buffer.alloc(0), value: Buffer.from('v') }));
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.match(e.details, /key must not be empty/);
  });
});

// DKV_REST_THREAD=true: REST served from a thread of its own, on a three-node cluster.
describe('real dkv processes serving REST from their own thread (DKV_REST_THREAD=true)', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ env: { DKV_REST_THREAD: 'true' } });
    await c.waitForLeader();
  });
  after(() => c?.stop());

  test('writes through a follower, reads, refusals, status, metrics and a clean SIGTERM', async () => {
    const leader = await c.waitForLeader();
    const [follower, other] = c.nodes.filter((n) => n !== leader);
    const first = await c.put(follower!, 'threaded', 'no');
    assert.equal(first.status, 200);
    assert.equal(first.body.message, 'success');
    assert.equal((await c.put(follower!, 'threaded', 'yes')).status, 200);
    for (const n of c.nodes) assert.deepEqual(await c.get(n, 'threaded'), { status: 200, value: 'yes' });
    const bad = await c.rest(follower!, 'POST', '/v0/kv', '{"key":"!!!","value":"d29ybGQ="}');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 3);
    assert.match(String(bad.body.message), /key/);
    assert.equal((await c.rest(leader, 'GET', '/v0/cluster/status')).body.role, 'LEADER');
    assert.equal((await c.rest(follower!, 'GET', '/healthz')).status, 200);
    const metrics = await fetch(`http://127.0.0.1:${follower!.restPort}/metrics`).then((r) => r.text());
    assert.match(metrics, /dkv_http_requests_total\{method="POST",route="\/v0\/kv",code="200"\} 2/);
    assert.equal(await c.kill(other!, 'SIGTERM'), 0, other!.output.join(''));
  });
});
