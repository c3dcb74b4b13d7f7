/**
 * Readiness, the operator routes (/healthz, /readyz, /metrics) in front of
 * the REST API, and the gRPC health service, on real HTTP and gRPC servers
 * over the in-memory backend whose status the tests set.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { NodeStatus } from '../../src/api/backend.js';
import { addHealthService } from '../../src/api/health-service.js';
import { createOpsRoutes } from '../../src/api/ops-routes.js';
import { READY_MAX_APPLY_LAG, readiness } from '../../src/api/readiness.js';
import { createRestHandler } from '../../src/api/rest.js';
import { unavailable } from '../../src/errors.js';
import {
  type HealthCheckResponse,
  HealthClient,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../src/gen/grpc/health/v1/health.js';
import { Role } from '../../src/raft/index.js';
import { MemoryBackend } from './memory-backend.js';
import { grpcFailure, unary } from './servers.js';

const READY: NodeStatus = {
  nodeId: 'b',
  role: Role.Follower,
  learner: false,
  term: 4,
  leaderId: 'a',
  commitIndex: 40,
  appliedIndex: 40,
  lastIndex: 40,
  firstIndex: 1,
  members: [],
  removed: false,
};

describe('readiness', () => {
  const cases: [string, Partial<NodeStatus>, RegExp | null][] = [
    ['a follower that knows a leader and has applied everything', {}, null],
    ['the leader', { role: Role.Leader, leaderId: 'b' }, null],
    ['a small apply lag', { appliedIndex: 40 - READY_MAX_APPLY_LAG }, null],
    ['removed from the cluster', { removed: true }, /^removed from the cluster$/],
    [
      'no leader',
      { role: Role.PreCandidate, leaderId: '' },
      /^no leader \(this node is pre-candidate in term 4\)$/,
    ],
    ['a candidate', { role: Role.Candidate, leaderId: '', term: 5 }, /^no leader .*candidate in term 5/],
    [
      'applying far behind its commit index',
      { appliedIndex: 10, commitIndex: 40 + READY_MAX_APPLY_LAG },
      new RegExp(`^applying: applied 10 of commit ${40 + READY_MAX_APPLY_LAG}$`),
    ],
  ];
  for (const [what, change, reason] of cases) {
    it(`${reason === null ? 'ready' : 'not ready'}: ${what}`, () => {
      const r = readiness({ ...READY, ...change });
      if (reason === null) assert.deepEqual(r, { ready: true });
      else {
        assert.equal(r.ready, false);
        assert.match((r as { reason: string }).reason, reason);
      }
    });
  }
});

describe('operator routes on the REST port', () => {
  const backend = new MemoryBackend();
  let server: Server;
  let url = '';
  let rendered = 0;
  before(async () => {
    backend.nodeStatus = { ...READY };
    server = createServer(
      createRestHandler(backend, {
        requestTimeoutMs: 2000,
        ops: createOpsRoutes({
          backend,
          metrics: async () => {
            rendered++;
            return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'dkv_up 1\n' };
          },
        }),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const get = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(url + path, init);
    const text = await r.text();
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      text,
      json: text ? JSON.parse(text) : null,
    };
  };

  it('/healthz answers 200 {"status":"ok"} whatever the node state', async () => {
    backend.nodeStatus = { ...READY, leaderId: '' };
    const r = await get('/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.deepEqual(r.json, { status: 'ok' });
    backend.nodeStatus = { ...READY };
  });

  it('/readyz answers 200 with the state when ready', async () => {
    const r = await get('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      status: 'ok',
      nodeId: 'b',
      leaderId: 'a',
      term: '4',
      commitIndex: '40',
      appliedIndex: '40',
    });
  });

  it('/readyz answers 503 with the reason when there is no leader or the apply lags', async () => {
    backend.nodeStatus = { ...READY, role: Role.PreCandidate, leaderId: '' };
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.json.status, 'unavailable');
    assert.match(r.json.reason, /^no leader/);
    backend.nodeStatus = { ...READY, appliedIndex: 10, commitIndex: 400 };
    r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.json.reason, 'applying: applied 10 of commit 400');
    backend.nodeStatus = { ...READY };
  });

  it('/readyz answers 503 with the error when the node cannot report its state', async () => {
    backend.fault = unavailable('storage is closed');
    try {
      const r = await get('/readyz');
      assert.equal(r.status, 503);
      assert.equal(r.json.reason, 'storage is closed');
    } finally {
      backend.fault = null;
    }
  });

  it('/metrics serves the renderer page with its content type', async () => {
    const before = rendered;
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await res.text(), 'dkv_up 1\n');
    assert.equal(rendered, before + 1, 'rendered once per scrape');
  });

  it('HEAD works; other methods are 501 with code 12 naming the route', async () => {
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const r = await get('/readyz', { method: 'POST', body: '{}' });
    assert.equal(r.status, 501);
    assert.deepEqual(r.json, { code: 12, message: '/readyz accepts GET and HEAD, not POST', details: [] });
  });

  it('leaves the API and unknown paths to the API router', async () => {
    const put = await get('/v0/kv', { method: 'POST', body: JSON.stringify({ key: 'aw==', value: 'dg==' }) });
    assert.equal(put.status, 200);
    assert.equal(put.json.message, 'success');
    const unknown = await get('/healthzz');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { code: 5, message: 'Not Found', details: [] });
  });

  it('without a metrics renderer, /metrics is an unknown route', async () => {
    const plain = createServer(
      createRestHandler(backend, { requestTimeoutMs: 2000, ops: createOpsRoutes({ backend }) }),
    );
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const r = await fetch(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/metrics`);
      assert.equal(r.status, 404);
      assert.deepEqual(await r.json(), { code: 5, message: 'Not Found', details: [] });
    } finally {
      plain.closeAllConnections();
      plain.close();
    }
  });
});

describe('gRPC health service', () => {
  const backend = new MemoryBackend();
  let server: grpc.Server;
  let client: HealthClient;
  before(async () => {
    backend.nodeStatus = { ...READY };
    server = new grpc.Server();
    addHealthService(server, backend, { watchIntervalMs: 20 });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  const check = (service: string) => unary(client.check.bind(client), { service });

  it('Check reports SERVING for the server and each public service when ready', async () => {
    for (const service of ['', 'dkv.v0.KVStore', 'dkv.v0.ClusterService']) {
      assert.equal((await check(service)).status, ServingStatus.SERVING, service);
    }
  });

  it('Check reports NOT_SERVING when not ready, or when the node cannot report', async () => {
    backend.nodeStatus = { ...READY, leaderId: '' };
    assert.equal((await check('')).status, ServingStatus.NOT_SERVING);
    assert.equal((await check('dkv.v0.KVStore')).status, ServingStatus.NOT_SERVING);
    backend.nodeStatus = { ...READY };
    backend.fault = unavailable('storage is closed');
    try {
      assert.equal((await check('')).status, ServingStatus.NOT_SERVING);
    } finally {
      backend.fault = null;
    }
    assert.equal((await check('')).status, ServingStatus.SERVING);
  });

  it('Check answers NOT_FOUND naming an unknown service', async () => {
    const failure = await grpcFailure(check('dkv.v0.Nope'));
    assert.equal(failure.code, grpc.status.NOT_FOUND);
    assert.equal(failure.details, 'unknown service: "dkv.v0.Nope"');
  });

  it('List reports every known service', async () => {
    const r = await unary(client.list.bind(client), {});
    assert.deepEqual(Object.keys(r.statuses).sort(), ['', 'dkv.v0.ClusterService', 'dkv.v0.KVStore']);
    for (const s of Object.values(r.statuses)) assert.equal(s.status, ServingStatus.SERVING);
  });

  it('Watch sends the status at once and then each change', async () => {
    const call = client.watch({ service: 'dkv.v0.KVStore' });
    const seen: ServingStatus[] = [];
    const next = () =>
      new Promise<ServingStatus>((resolve, reject) => {
        call.once('data', (m: HealthCheckResponse) => {
          seen.push(m.status);
          resolve(m.status);
        });
        call.once('error', reject);
      });
    try {
      assert.equal(await next(), ServingStatus.SERVING);
      const changed = next();
      backend.nodeStatus = { ...READY, leaderId: '' };
      assert.equal(await changed, ServingStatus.NOT_SERVING);
      const back = next();
      backend.nodeStatus = { ...READY };
      assert.equal(await back, ServingStatus.SERVING);
      assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    } finally {
      call.cancel();
      backend.nodeStatus = { ...READY };
    }
  });

  it('Watch of an unknown service says SERVICE_UNKNOWN and stays open', async () => {
    const call = client.watch({ service: 'nope' });
    const first = await new Promise<HealthCheckResponse>((resolve, reject) => {
      call.once('data', resolve);
      call.once('error', reject);
    });
    assert.equal(first.status, ServingStatus.SERVICE_UNKNOWN);
    let ended = false;
    call.on('end', () => {
      ended = true;
    });
    call.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ended, false);
    call.cancel();
  });
});
