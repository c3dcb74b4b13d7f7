/**
 * Health, readiness, metrics and reflection of real dkv processes: a live
 * three-node cluster is probed over HTTP and gRPC while the test drives
 * traffic through it, cuts a node off, kills the leader and finally leaves a
 * lone node without quorum. Every /metrics page must parse strictly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type Family, parsePromText, total, value } from '../../scripts/prom-text.js';
import { KVStoreClient } from '../../src/gen/dkv/v0/kvstore.js';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../src/gen/grpc/health/v1/health.js';
import { unary } from '../api/servers.js';
import { b64, TestCluster, type TestNode } from './harness.js';
import { ReflectionClient } from './reflection-client.js';

describe('observability of real dkv processes', () => {
  let c: TestCluster;
  const clients: { close(): void }[] = [];
  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
  });
  after(async () => {
    for (const cl of clients) cl.close();
    await c?.stop();
  });

  const address = (n: TestNode) => `127.0.0.1:${n.rpcPort}`;
  const healthClient = (n: TestNode) => {
    const cl = new HealthClient(address(n), grpc.credentials.createInsecure());
    clients.push(cl);
    return cl;
  };
  const servingStatus = async (n: TestNode, service = ''): Promise<ServingStatus> => {
    const cl = healthClient(n);
    const r = await unary(cl.check.bind(cl), { service }, { deadline: Date.now() + 2000 });
    return r.status;
  };
  const scrape = async (n: TestNode): Promise<Map<string, Family>> => {
    const res = await fetch(`http://127.0.0.1:${n.restPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePromText(await res.text());
  };
  const readyz = (n: TestNode) => c.rest(n, 'GET', '/readyz', undefined, 3000);
  const running = () => c.nodes.filter((n) => n.proc !== null);

  test('/healthz is 200 and /readyz 200 on every node of a healthy cluster; gRPC health says SERVING', async () => {
    for (const n of c.nodes) {
      const h = await c.rest(n, 'GET', '/healthz');
      assert.equal(h.status, 200);
      assert.deepEqual(h.body, { status: 'ok' });
    }
    for (const n of c.nodes) {
      await c.until(`node ${n.id} ready`, async () => (await readyz(n)).status === 200);
      const r = await readyz(n);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.nodeId, n.id);
      assert.notEqual(r.body.leaderId, '');
      for (const service of ['', 'dkv.v0.KVStore', 'dkv.v0.ClusterService']) {
        assert.equal(await servingStatus(n, service), ServingStatus.SERVING, `${n.id} ${service}`);
      }
    }
  });

  test('server reflection lists and describes the public services', async () => {
    const refl = new ReflectionClient(address(c.nodes[1]!));
    clients.push(refl);
    const services = await refl.listServices();
    for (const name of ['dkv.v0.KVStore', 'dkv.v0.ClusterService', 'grpc.health.v1.Health']) {
      assert.ok(services.includes(name), `${name} listed in ${services.join(', ')}`);
    }
    assert.ok(
      !services.some((s) => s.startsWith('dkv.raft.')),
      'the peer protocol is not offered to clients',
    );
    const files = await refl.fileContainingSymbol('dkv.v0.KVStore');
    const kvFile = files.find((f) => f.service.some((s) => s.name === 'KVStore'));
    assert.ok(kvFile, `a file defines KVStore: ${files.map((f) => f.name).join(', ')}`);
    assert.equal(kvFile.package, 'dkv.v0');
    const kvService = kvFile.service.find((s) => s.name === 'KVStore')!;
    assert.deepEqual(kvService.method.map((m) => m.name).sort(), [
      'CompareAndSwap',
      'Delete',
      'Get',
      'Put',
      'Range',
    ]);
    const put = kvService.method.find((m) => m.name === 'Put')!;
    assert.equal(put.inputType, '.dkv.v0.PutRequest');
    assert.ok(kvFile.messageType.some((m) => m.name === 'PutRequest'));
  });

  test('metrics counters move as traffic goes through a follower over REST and gRPC', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const N = 20;
    const before = await scrape(follower);
    const leaderBefore = await scrape(leader);

    for (let i = 0; i < N; i++) {
      const r = await c.put(follower, `metrics-rest-${i}`, `v${i}`);
      assert.equal(r.status, 200);
    }
    const kv = new KVStoreClient(address(follower), grpc.credentials.createInsecure());
    clients.push(kv);
    for (let i = 0; i < N; i++) {
      const key = Buffer.from(`metrics-grpc-${i}`);
      await unary(kv.put.bind(kv), { key, value: Buffer.from(`v${i}`) }, { deadline: Date.now() + 5000 });
    }
    const got = await c.rest(
      follower,
      'GET',
      `/v0/kv/key/${Buffer.from('metrics-rest-0').toString('base64url')}`,
    );
    assert.equal(got.status, 200);
    assert.equal(got.body.value, b64('v0'));

    const after = await scrape(follower);
    const grew = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    assert.ok(grew('dkv_http_requests_total', { method: 'POST', route: '/v0/kv', code: '200' }) >= N);
    assert.ok(
      grew('dkv_http_request_duration_seconds_count', { method: 'POST', route: '/v0/kv', code: '200' }) >= N,
    );
    assert.ok(
      grew('dkv_http_requests_total', { method: 'GET', route: '/v0/kv/key/{key}', code: '200' }) >= 1,
    );
    assert.ok(grew('dkv_grpc_requests_total', { service: 'dkv.v0.KVStore', method: 'Put', code: 'OK' }) >= N);
    // The operator routes are counted by their path; the scrape before this one was.
    assert.ok(grew('dkv_http_requests_total', { method: 'GET', route: '/metrics', code: '200' }) >= 1);
    assert.ok(
      grew('dkv_grpc_request_duration_seconds_count', {
        service: 'dkv.v0.KVStore',
        method: 'Put',
        code: 'OK',
      }) >= N,
    );
    assert.ok(grew('dkv_proposal_duration_seconds_count') >= 2 * N, 'proposals made on the follower');
    assert.ok(grew('dkv_raft_commit_index') >= 2 * N, 'commit index');
    assert.ok(grew('dkv_raft_applied_index') >= 2 * N, 'applied index');
    assert.ok(grew('dkv_storage_fsync_duration_seconds_count') > 0, 'the follower fsynced the entries');
    assert.ok(grew('dkv_apply_duration_seconds_count') > 0, 'the follower applied them');
    assert.ok(value(after, 'dkv_raft_last_log_index') >= value(after, 'dkv_raft_commit_index'));
    assert.equal(value(after, 'dkv_raft_is_leader'), 0);
    assert.equal(value(after, 'dkv_raft_role', { role: 'follower' }), 1);

    const leaderAfter = await scrape(leader);
    assert.equal(value(leaderAfter, 'dkv_raft_is_leader'), 1);
    // The leader timed its appends to the follower the writes came through, and it answered them.
    assert.ok(
      total(leaderAfter, 'dkv_raft_append_round_trip_seconds_count', { peer: follower.id }) -
        total(leaderBefore, 'dkv_raft_append_round_trip_seconds_count', { peer: follower.id }) >=
        1,
      'append round trips to the follower',
    );
    assert.equal(grew('dkv_raft_append_round_trip_seconds_count'), 0, 'a follower times none');
    // The follower timed its answers to the leader's appends; a leader answers none.
    const answered = grew('dkv_raft_append_answer_seconds_count');
    assert.ok(answered >= 1, 'the follower timed its answers');
    assert.equal(
      total(leaderAfter, 'dkv_raft_append_answer_seconds_count'),
      total(leaderBefore, 'dkv_raft_append_answer_seconds_count'),
      'a leader answers no appends',
    );
    // Each answer lies inside the leader's round trip of the same append, so on the mean too.
    const meanOf = (after: Map<string, Family>, before: Map<string, Family>, name: string, labels = {}) =>
      (total(after, `${name}_sum`, labels) - total(before, `${name}_sum`, labels)) /
      (total(after, `${name}_count`, labels) - total(before, `${name}_count`, labels));
    const answerMean = meanOf(after, before, 'dkv_raft_append_answer_seconds');
    const roundTripMean = meanOf(leaderAfter, leaderBefore, 'dkv_raft_append_round_trip_seconds', {
      peer: follower.id,
    });
    assert.ok(
      answerMean < roundTripMean,
      `the follower's mean answer ${answerMean} s within the leader's mean round trip ${roundTripMean} s`,
    );
    assert.ok(
      value(leaderAfter, 'dkv_storage_fsync_duration_seconds_count') >
        value(leaderBefore, 'dkv_storage_fsync_duration_seconds_count'),
      'the leader fsynced the entries',
    );
    assert.equal(
      value(leaderAfter, 'dkv_raft_term'),
      value(after, 'dkv_raft_term'),
      'leader and follower agree on the term',
    );
    // Default process metrics are there too.
    assert.ok(value(after, 'process_cpu_user_seconds_total') > 0);
  });

  test('followers nobody waits on commit on their event loop; one with clients waiting does not', async () => {
    const leader = await c.waitForLeader();
    const nodes = [leader, ...c.nodes.filter((n) => n !== leader)];
    const grown = async (before: Map<string, Family>[]) => {
      const after = await Promise.all(nodes.map(scrape));
      return after.map((a, i) => {
        const grew = (thread: string) =>
          total(a, 'dkv_storage_commits_total', { thread }) -
          total(before[i]!, 'dkv_storage_commits_total', { thread });
        return { loop: grew('event_loop'), writer: grew('writer') };
      });
    };
    /** Five bursts of 64 writes at once on `n`: its groups, and the appends they make, carry many entries. */
    const bursts = async (n: TestNode, prefix: string) => {
      for (let round = 0; round < 5; round++) {
        const replies = await Promise.all(
          Array.from({ length: 64 }, (_, i) =>
            c.rest(n, 'POST', '/v0/kv', { key: b64(`${prefix}-${round}-${i}`), value: b64('v') }),
          ),
        );
        for (const r of replies) assert.equal(r.status, 200);
      }
    };
    const before = await Promise.all(nodes.map(scrape));
    await bursts(leader, 'burst');
    const [onLeader, ...onFollowers] = await grown(before);
    // The leader has requests to parse while its disk syncs: heavy groups go to the writer thread.
    assert.ok(onLeader!.writer > 0, `the bursts made groups of many entries: ${JSON.stringify(onLeader)}`);
    for (const f of onFollowers) {
      assert.ok(f.loop > 0, `a follower committed the appends: ${JSON.stringify(f)}`);
      assert.equal(f.writer, 0, `a follower with no client waiting stays on its loop: ${JSON.stringify(f)}`);
    }

    // The same bursts through a follower: its clients wait on it, so it overlaps its fsyncs again.
    const busy = nodes[1]!;
    const again = await Promise.all(nodes.map(scrape));
    await bursts(busy, 'via');
    const onBusy = (await grown(again))[1]!;
    assert.ok(
      onBusy.writer > 0,
      `a follower with writes waiting uses the writer thread: ${JSON.stringify(onBusy)}`,
    );
  });

  test('a node cut off from the cluster is 503 with a reason and NOT_SERVING, and recovers', async () => {
    const leader = await c.waitForLeader();
    const cut = c.nodes.find((n) => n !== leader)!;
    c.isolate(cut.id);
    try {
      await c.until(`node ${cut.id} not ready`, async () => (await readyz(cut)).status === 503);
      const r = await readyz(cut);
      assert.equal(r.body.status, 'unavailable');
      assert.match(String(r.body.reason), /^no leader/);
      assert.equal(await servingStatus(cut), ServingStatus.NOT_SERVING);
      assert.equal(await servingStatus(cut, 'dkv.v0.KVStore'), ServingStatus.NOT_SERVING);
      const m = await scrape(cut);
      assert.equal(value(m, 'dkv_ready'), 0);
      assert.equal(value(m, 'dkv_raft_has_leader'), 0);
      // The rest of the cluster still has its majority and stays ready.
      for (const n of c.nodes.filter((x) => x !== cut)) {
        assert.equal((await readyz(n)).status, 200, `node ${n.id}`);
        assert.equal(await servingStatus(n), ServingStatus.SERVING);
      }
      // /healthz says only that the process serves: still 200.
      assert.equal((await c.rest(cut, 'GET', '/healthz')).status, 200);
    } finally {
      c.isolate(cut.id, false);
    }
    await c.until(`node ${cut.id} ready again`, async () => (await readyz(cut)).status === 200);
    assert.equal(await servingStatus(cut), ServingStatus.SERVING);
  });

  test('killing the leader counts a leader change on a survivor', async () => {
    const leader = await c.waitForLeader();
    const survivors = c.nodes.filter((n) => n !== leader);
    const before = new Map<string, number>();
    for (const n of survivors) before.set(n.id, value(await scrape(n), 'dkv_raft_leader_changes_total'));
    for (const n of survivors) assert.ok(before.get(n.id)! >= 1, 'the first leader was counted');
    await c.kill(leader);
    const next = await c.waitForLeader(survivors);
    assert.notEqual(next, leader);
    for (const n of survivors) {
      await c.until(
        `node ${n.id} counts the leader change`,
        async () => value(await scrape(n), 'dkv_raft_leader_changes_total') > before.get(n.id)!,
      );
    }
    const m = await scrape(next);
    assert.equal(value(m, 'dkv_raft_is_leader'), 1);
    assert.equal(value(m, 'dkv_raft_role', { role: 'leader' }), 1);
  });

  test('a lone node without quorum is 503 "no leader" and NOT_SERVING', async () => {
    const [lone, other] = running();
    assert.ok(lone && other, 'two nodes still run');
    await c.kill(other);
    await c.until(`lone node ${lone.id} not ready`, async () => (await readyz(lone)).status === 503);
    const r = await readyz(lone);
    assert.match(String(r.body.reason), /^no leader/);
    assert.equal(await servingStatus(lone), ServingStatus.NOT_SERVING);
    assert.equal((await c.rest(lone, 'GET', '/healthz')).status, 200);
    const m = await scrape(lone);
    assert.equal(value(m, 'dkv_ready'), 0);
    assert.equal(value(m, 'dkv_raft_is_leader'), 0);
  });
});
