/**
 * The metrics module on real parts: the node metrics' observers and state
 * gauges, the store's observer hooks on a real LMDB store, HTTP request
 * metrics through the real REST handler and gRPC ones through a real grpc-js
 * server with the interceptor; every page must parse as Prometheus text.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { parsePromText, samples, total, value } from '../../scripts/prom-text.js';
import type { NodeStatus } from '../../src/api/backend.js';
import { addKvServices } from '../../src/api/grpc-services.js';
import { createRestHandler, UNMATCHED_ROUTE } from '../../src/api/rest.js';
import { KVStoreClient } from '../../src/gen/dkv/v0/kvstore.js';
import { DkvMetrics } from '../../src/metrics/dkv-metrics.js';
import { Role } from '../../src/raft/index.js';
import { MemoryBackend } from '../api/memory-backend.js';
import { grpcFailure, unary } from '../api/servers.js';
import { putEntry, tmpStore } from '../storage/helpers.js';

const STATUS: NodeStatus = {
  nodeId: 'b',
  role: Role.Follower,
  learner: false,
  term: 7,
  leaderId: 'a',
  commitIndex: 40,
  appliedIndex: 38,
  lastIndex: 41,
  firstIndex: 12,
  members: [],
  removed: false,
};

async function page(metrics: DkvMetrics, status: NodeStatus = STATUS) {
  const rendered = await metrics.render(() => status);
  assert.match(rendered.contentType, /^text\/plain; version=0\.0\.4/);
  return parsePromText(rendered.body);
}

describe('node metrics', () => {
  it('mirror the node status at scrape time', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    let f = await page(metrics);
    assert.equal(value(f, 'dkv_raft_term'), 7);
    assert.equal(value(f, 'dkv_raft_commit_index'), 40);
    assert.equal(value(f, 'dkv_raft_applied_index'), 38);
    assert.equal(value(f, 'dkv_raft_last_log_index'), 41);
    assert.equal(value(f, 'dkv_raft_first_log_index'), 12);
    assert.equal(value(f, 'dkv_raft_role', { role: 'follower' }), 1);
    assert.equal(total(f, 'dkv_raft_role'), 1, 'exactly one role is current');
    assert.equal(value(f, 'dkv_raft_is_leader'), 0);
    assert.equal(value(f, 'dkv_raft_has_leader'), 1);
    assert.equal(value(f, 'dkv_ready'), 1);

    f = await page(metrics, { ...STATUS, role: Role.Leader, leaderId: 'b', term: 8 });
    assert.equal(value(f, 'dkv_raft_role', { role: 'leader' }), 1);
    assert.equal(value(f, 'dkv_raft_role', { role: 'follower' }), 0);
    assert.equal(value(f, 'dkv_raft_is_leader'), 1);
    assert.equal(value(f, 'dkv_raft_term'), 8);

    f = await page(metrics, { ...STATUS, role: Role.PreCandidate, leaderId: '' });
    assert.equal(value(f, 'dkv_raft_role', { role: 'pre-candidate' }), 1);
    assert.equal(value(f, 'dkv_raft_has_leader'), 0);
    assert.equal(value(f, 'dkv_ready'), 0);

    f = await page(metrics, { ...STATUS, learner: true });
    assert.equal(value(f, 'dkv_raft_role', { role: 'learner' }), 1);
    assert.equal(total(f, 'dkv_raft_role'), 1);
  });

  it('keep the last gauges when the node cannot report', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    await page(metrics);
    const rendered = await metrics.render(() => {
      throw new Error('storage is closed');
    });
    assert.equal(value(parsePromText(rendered.body), 'dkv_raft_term'), 7);
  });

  it('count a leader change for each new leader or new term, not for losing one', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    const observe = metrics.node.nodeObserver.onSoftState!;
    const changes = async () => value(await page(metrics), 'dkv_raft_leader_changes_total');
    assert.equal(await changes(), 0);
    observe(Role.PreCandidate, '', 1);
    assert.equal(await changes(), 0, 'no leader yet');
    observe(Role.Follower, 'a', 2);
    assert.equal(await changes(), 1, 'the first leader counts');
    observe(Role.Follower, 'a', 2);
    observe(Role.PreCandidate, '', 2);
    assert.equal(await changes(), 1, 'losing the leader is not a change');
    observe(Role.Follower, 'a', 2);
    assert.equal(await changes(), 1, 'the same leader in the same term again');
    observe(Role.Follower, 'a', 3);
    assert.equal(await changes(), 2, 'the same leader re-elected in a new term');
    observe(Role.Leader, 'b', 4);
    assert.equal(await changes(), 3, 'a new leader');
  });

  it('record proposals, snapshots, fsyncs and applies as the observers are told', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    const node = metrics.node.nodeObserver;
    const store = metrics.node.storeObserver;
    node.onProposalApplied!(3);
    node.onProposalApplied!(2000);
    node.onSnapshotSent!(true);
    node.onSnapshotSent!(false);
    node.onSnapshotSent!(true);
    node.onSnapshotInstalled!();
    store.onDurableWrite!(4);
    store.onApply!(5, 0.5);
    store.onCommit!('event_loop');
    store.onCommit!('event_loop');
    node.onAppendRoundTrip!('b', 3);
    node.onAppendRoundTrip!('b', 0.5);
    node.onAppendRoundTrip!('c', 7);
    node.onAppendAnswered!(1.5);
    node.onAppendAnswered!(6);
    const f = await page(metrics);
    assert.equal(value(f, 'dkv_proposal_duration_seconds_count'), 2);
    assert.ok(Math.abs(value(f, 'dkv_proposal_duration_seconds_sum') - 2.003) < 1e-9);
    assert.equal(value(f, 'dkv_proposal_duration_seconds_bucket', { le: '0.005' }), 1);
    assert.equal(value(f, 'dkv_proposal_duration_seconds_bucket', { le: '2.5' }), 2);
    assert.equal(value(f, 'dkv_snapshots_sent_total', { result: 'ok' }), 2);
    assert.equal(value(f, 'dkv_snapshots_sent_total', { result: 'failed' }), 1);
    assert.equal(value(f, 'dkv_snapshots_received_total'), 1);
    assert.equal(value(f, 'dkv_storage_fsync_duration_seconds_count'), 1);
    assert.ok(Math.abs(value(f, 'dkv_storage_fsync_duration_seconds_sum') - 0.004) < 1e-12);
    assert.equal(value(f, 'dkv_apply_duration_seconds_count'), 1);
    assert.equal(value(f, 'dkv_applied_entries_total'), 5);
    assert.equal(value(f, 'dkv_storage_commits_total', { thread: 'event_loop' }), 2);
    assert.equal(value(f, 'dkv_storage_commits_total', { thread: 'writer' }), 0, 'shown before the first');
    assert.equal(value(f, 'dkv_raft_append_round_trip_seconds_count', { peer: 'b' }), 2);
    assert.ok(Math.abs(value(f, 'dkv_raft_append_round_trip_seconds_sum', { peer: 'b' }) - 0.0035) < 1e-12);
    assert.equal(value(f, 'dkv_raft_append_round_trip_seconds_bucket', { peer: 'b', le: '0.0008' }), 1);
    assert.equal(value(f, 'dkv_raft_append_round_trip_seconds_count', { peer: 'c' }), 1);
    assert.equal(value(f, 'dkv_raft_append_answer_seconds_count'), 2);
    assert.ok(Math.abs(value(f, 'dkv_raft_append_answer_seconds_sum') - 0.0075) < 1e-12);
    assert.equal(value(f, 'dkv_raft_append_answer_seconds_bucket', { le: '0.0016' }), 1);
  });

  it('include the default process metrics and still parse strictly', async () => {
    const metrics = new DkvMetrics();
    const f = await page(metrics);
    assert.ok(samples(f, 'process_cpu_user_seconds_total').length === 1);
    assert.ok(samples(f, 'nodejs_heap_size_used_bytes').length === 1);
    assert.equal(value(f, 'dkv_raft_term'), 7);
  });
});

describe('store observer on a real LMDB store', () => {
  it('is told of each durable write and each apply', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    const { store } = tmpStore();
    store.observer = metrics.node.storeObserver;
    await store.persist({
      hardState: { term: 1, vote: '', commit: 0 },
      entries: [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2')],
      snapshot: null,
    });
    let f = await page(metrics);
    assert.equal(value(f, 'dkv_storage_fsync_duration_seconds_count'), 1);
    assert.equal(value(f, 'dkv_storage_commits_total', { thread: 'event_loop' }), 1, 'two entries: light');
    assert.equal(value(f, 'dkv_apply_duration_seconds_count'), 0);
    await store.apply([putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2')]);
    f = await page(metrics);
    assert.equal(value(f, 'dkv_storage_fsync_duration_seconds_count'), 1, 'applying needs no fsync');
    assert.equal(value(f, 'dkv_apply_duration_seconds_count'), 1);
    assert.equal(value(f, 'dkv_applied_entries_total'), 2);
    assert.ok(value(f, 'dkv_apply_duration_seconds_sum') >= 0);
    await store.close();
  });
});

describe('HTTP request metrics', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('count requests by method, route template and status code', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    const backend = new MemoryBackend();
    const server = createServer(
      createRestHandler(backend, { requestTimeoutMs: 2000, observeRequest: metrics.http.observe }),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const key = Buffer.from('secret-key').toString('base64url');
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/v0/kv`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('secret-key').toString('base64'), value: 'dg==' }),
      });
      assert.equal(r.status, 200);
      await r.text();
    }
    assert.equal((await fetch(`${url}/v0/kv/key/${key}`)).status, 200);
    assert.equal(
      (await fetch(`${url}/v0/kv/key/${Buffer.from('absent').toString('base64url')}`)).status,
      404,
    );
    assert.equal((await fetch(`${url}/v0/kv`, { method: 'POST', body: '{' })).status, 400);
    assert.equal((await fetch(`${url}/no/such/route`)).status, 404);
    assert.equal((await fetch(`${url}/v0/kv/cas`, { method: 'GET' })).status, 501);

    const f = await page(metrics);
    assert.equal(value(f, 'dkv_http_requests_total', { method: 'POST', route: '/v0/kv', code: '200' }), 3);
    assert.equal(value(f, 'dkv_http_requests_total', { method: 'POST', route: '/v0/kv', code: '400' }), 1);
    assert.equal(
      value(f, 'dkv_http_requests_total', { method: 'GET', route: '/v0/kv/key/{key}', code: '200' }),
      1,
    );
    assert.equal(
      value(f, 'dkv_http_requests_total', { method: 'GET', route: '/v0/kv/key/{key}', code: '404' }),
      1,
    );
    assert.equal(total(f, 'dkv_http_requests_total', { route: UNMATCHED_ROUTE }), 2);
    assert.equal(
      value(f, 'dkv_http_request_duration_seconds_count', { method: 'POST', route: '/v0/kv', code: '200' }),
      3,
    );
    assert.equal(total(f, 'dkv_http_requests_total'), 8);
    // A key in a path never becomes a label value.
    for (const s of samples(f, 'dkv_http_requests_total')) assert.ok(!s.labels.route?.includes(key));
  });
});

describe('gRPC request metrics', () => {
  it('count unary calls by service, method and status code through the interceptor', async () => {
    const metrics = new DkvMetrics({ defaultMetrics: false });
    const server = new grpc.Server({ interceptors: [metrics.grpc.interceptor] });
    addKvServices(server, new MemoryBackend(), { requestTimeoutMs: 2000 });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const client = new KVStoreClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const key = Buffer.from('k');
      for (let i = 0; i < 4; i++) await unary(client.put.bind(client), { key, value: Buffer.from('v') });
      await unary(client.get.bind(client), { key, consistency: 0 });
      const missing = await grpcFailure(
        unary(client.get.bind(client), { key: Buffer.from('absent'), consistency: 0 }),
      );
      assert.equal(missing.code, grpc.status.NOT_FOUND);
      const invalid = await grpcFailure(
        unary(client.put.bind(client), { key: Buffer.alloc(0), value: Buffer.from('v') }),
      );
      assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT);

      const f = await page(metrics);
      const labels = (method: string, code: string) => ({ service: 'dkv.v0.KVStore', method, code });
      assert.equal(value(f, 'dkv_grpc_requests_total', labels('Put', 'OK')), 4);
      assert.equal(value(f, 'dkv_grpc_requests_total', labels('Put', 'INVALID_ARGUMENT')), 1);
      assert.equal(value(f, 'dkv_grpc_requests_total', labels('Get', 'OK')), 1);
      assert.equal(value(f, 'dkv_grpc_requests_total', labels('Get', 'NOT_FOUND')), 1);
      assert.equal(value(f, 'dkv_grpc_request_duration_seconds_count', labels('Put', 'OK')), 4);
      assert.equal(total(f, 'dkv_grpc_requests_total'), 7);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
