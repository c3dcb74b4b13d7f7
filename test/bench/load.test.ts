/**
 * Smoke test of the load generator against a tiny in-process HTTP server
 * that answers like dkv's /v0/kv. It checks counts only (requests sent,
 * replies, errors, histogram entries), never latencies or throughput.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { runLoad } from '../../scripts/bench/load.js';

let server: Server;
let base = '';
let received = 0;

before(async () => {
  server = createServer((req, res) => {
    received++;
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v0/kv') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"message":"success","revision":"1"}');
      } else if (req.method === 'GET' && req.url?.startsWith('/v0/kv/key/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"key":"","value":"","revision":"1"}');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"code":5,"message":"not found","details":[]}');
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
});

test('closed loop, 4 connections, ~1 s of puts: replies counted, no errors, histogram matches', async () => {
  const { result, histogram } = await runLoad({
    system: 'dkv',
    protocol: 'http',
    targets: [base],
    op: 'put',
    connections: 4,
    durationMs: 800,
    warmupMs: 200,
    keys: 100,
    valueBytes: 100,
  });
  assert.ok(result.completed > 0, 'no request completed');
  assert.equal(result.errorCount, 0, JSON.stringify(result.errorSamples));
  assert.deepEqual(result.errors, {});
  assert.equal(histogram.count, result.completed);
  assert.equal(result.latency.count, result.completed);
  assert.ok(received >= result.completed);
  assert.equal(result.abandoned, 0);
});

test('closed loop of gets with a fixed request count sends exactly that many', async () => {
  const { result } = await runLoad({
    system: 'dkv',
    protocol: 'http',
    targets: [base, base],
    op: 'get',
    connections: 3,
    requests: 250,
    keys: 100,
    keyOrder: 'sequential',
    valueBytes: 10,
  });
  assert.equal(result.completed, 250);
  assert.equal(result.sent, 250);
  assert.equal(result.errorCount, 0);
});

test('non-2xx replies are counted as errors by status', async () => {
  const { result } = await runLoad({
    system: 'etcd', // POST /v3/kv/range: the dkv-like test server answers 404
    protocol: 'http',
    targets: [base],
    op: 'get',
    connections: 2,
    requests: 20,
    keys: 10,
    valueBytes: 10,
  });
  assert.equal(result.completed, 0);
  assert.equal(result.errors['http 404'], 20);
  assert.equal(result.errorSamples.length, 1);
});

test('open loop at 200 req/s for 1 s sends about 200 requests', async () => {
  const { result, histogram } = await runLoad({
    system: 'dkv',
    protocol: 'http',
    targets: [base],
    op: 'put',
    connections: 8,
    rate: 200,
    durationMs: 1000,
    keys: 100,
    valueBytes: 100,
  });
  assert.ok(result.sent >= 140 && result.sent <= 260, `sent ${result.sent}`);
  assert.equal(result.errorCount, 0);
  assert.equal(histogram.count, result.completed);
  assert.ok(result.completed >= 140 && result.completed <= 260, `completed ${result.completed}`);
});
