/**
 * The REST server in its own thread (src/api/rest-thread.ts): what crosses
 * between the threads keeps its bytes and error codes, the thread forwards
 * the operator routes and request metrics to the node's side, and it starts,
 * fails to listen and closes as the in-process server does. The full REST
 * suite runs against it too (rest.test.ts, kind "thread").
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { Batcher, errorFromWire, errorToWire, fromWire, toWire } from '../../src/api/backend-wire.js';
import { startRestServer } from '../../src/api/rest-server.js';
import { DkvError, ErrorCode, unavailable } from '../../src/errors.js';
import { Role } from '../../src/raft/index.js';
import { MemoryBackend } from './memory-backend.js';
import { recordingLog } from './servers.js';

/** Send `value` through a real MessageChannel (structured clone) and return what arrives. */
async function cross(value: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  try {
    const arrived = new Promise((resolve) => port2.once('message', resolve));
    port1.postMessage(value);
    return await arrived;
  } finally {
    port1.close();
    port2.close();
  }
}

describe('what crosses between the REST thread and the node', () => {
  test('bytes cross as Buffers with their exact content, a view into a pool as an exact copy', async () => {
    const pooled = Buffer.from('aGVsbG8=', 'base64'); // small: a view into Node's shared pool
    assert.ok(pooled.buffer.byteLength > pooled.byteLength, 'the test needs a pooled Buffer');
    const wire = toWire({
      kvs: [{ key: pooled, value: Buffer.from([0, 255, 10]), modRevision: 7 }],
      more: false,
    }) as {
      kvs: { key: Uint8Array }[];
    };
    assert.equal(wire.kvs[0]!.key.buffer.byteLength, 5, 'only the 5 bytes are cloned, not the pool');
    const back = fromWire(await cross(wire)) as {
      kvs: { key: Buffer; value: Buffer; modRevision: number }[];
    };
    assert.ok(Buffer.isBuffer(back.kvs[0]!.key));
    assert.deepEqual(back.kvs[0]!.key, Buffer.from('hello'));
    assert.deepEqual(back.kvs[0]!.value, Buffer.from([0, 255, 10]));
    assert.equal(back.kvs[0]!.modRevision, 7);
    assert.deepEqual(fromWire(await cross(toWire([null, 3, 'x', { current: null }]))), [
      null,
      3,
      'x',
      { current: null },
    ]);
  });

  test('a DkvError keeps its code and message; anything else becomes an internal error with its stack', async () => {
    const dkv = errorFromWire((await cross(errorToWire(unavailable('no leader')))) as never);
    assert.ok(dkv instanceof DkvError);
    assert.equal(dkv.code, ErrorCode.Unavailable);
    assert.equal(dkv.message, 'no leader');
    const original = new Error('EIO: disk');
    const plain = errorFromWire((await cross(errorToWire(original))) as never);
    assert.ok(!(plain instanceof DkvError));
    assert.equal(plain.message, 'EIO: disk');
    assert.equal(plain.stack, original.stack);
    assert.ok(!(errorFromWire({ code: 'NO_SUCH_CODE' as never, message: 'm' }) instanceof DkvError));
    assert.equal(errorFromWire(errorToWire('a string')).message, 'a string');
  });

  test('a Batcher sends what one turn pushed as one array, then starts a new one; flush sends at once', async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number>((items) => sent.push(items), setImmediate);
    batcher.push(1);
    batcher.push(2);
    batcher.push(3);
    assert.deepEqual(sent, []);
    await new Promise((resolve) => setImmediate(resolve));
    batcher.push(4);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [[1, 2, 3], [4]]);
    // flush() sends what waits at once (before a message that must follow it); the turn's end then has nothing.
    batcher.push(5);
    batcher.flush();
    assert.deepEqual(sent, [[1, 2, 3], [4], [5]]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [[1, 2, 3], [4], [5]]);
  });
});

describe('the REST thread', () => {
  const start = (backend: MemoryBackend, extra: Partial<Parameters<typeof startRestServer>[0]> = {}) =>
    startRestServer({
      backend,
      port: 0,
      host: '127.0.0.1',
      requestTimeoutMs: 2000,
      log: () => {},
      thread: true,
      ...extra,
    });

  test('operator routes and request metrics are answered from the node side', async () => {
    const backend = new MemoryBackend();
    const observed: string[] = [];
    const server = await start(backend, {
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'dkv_up 1\n' }),
      observeRequest: (method, route, status) => observed.push(`${method} ${route} ${status}`),
    });
    const url = `http://127.0.0.1:${server.port}`;
    try {
      const put = await fetch(`${url}/v0/kv`, { method: 'POST', body: '{"key":"aw==","value":"dg=="}' });
      assert.equal(await put.text(), '{"message":"success","revision":"1"}');
      const metrics = await fetch(`${url}/metrics`);
      assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4');
      assert.equal(await metrics.text(), 'dkv_up 1\n');
      const healthz = await fetch(`${url}/healthz`);
      assert.equal(healthz.status, 200);
      await healthz.text();
      // /readyz reads the node's status: a follower that knows no leader is not ready.
      backend.nodeStatus = { ...backend.nodeStatus, role: Role.Follower, leaderId: '' };
      const readyz = await fetch(`${url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /no leader/);
      // Observations follow the responses on their own channel.
      const until = Date.now() + 2000;
      while (observed.length < 4 && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(observed, [
        'POST /v0/kv 200',
        'GET /metrics 200',
        'GET /healthz 200',
        'GET /readyz 503',
      ]);
    } finally {
      await server.close(0);
    }
  });

  test("the node's log receives the thread's log lines", async () => {
    const backend = new MemoryBackend();
    const recorder = recordingLog();
    const server = await start(backend, { log: recorder.log });
    const url = `http://127.0.0.1:${server.port}`;
    try {
      backend.fault = new Error('EACCES: /data/secret.mdb');
      const response = await fetch(`${url}/v0/kv/key/aw==`);
      assert.equal(response.status, 500);
      assert.doesNotMatch(await response.text(), /secret/);
      backend.fault = null;
      await (await fetch(`${url}/healthz`)).text(); // behind the log line on the same channel
      assert.equal(recorder.entries.length, 1);
      assert.equal(recorder.entries[0]!.level, 'error');
      assert.match(JSON.stringify(recorder.entries[0]!.fields), /secret\.mdb/);
    } finally {
      await server.close(0);
    }
  });

  test('a port already taken is refused with the listen error', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      await assert.rejects(start(new MemoryBackend(), { port }), /EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  test('close answers the request in flight, then refuses connections', async () => {
    const backend = new MemoryBackend();
    backend.stall = true; // the read waits for its deadline, as on a node without quorum
    const server = await start(backend);
    const url = `http://127.0.0.1:${server.port}`;
    const inFlight = fetch(`${url}/v0/kv/key/aw==`, { headers: { 'Grpc-Timeout': '300m' } });
    while (backend.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const closed = server.close(5000);
    const response = await inFlight;
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { code: number }).code, 4);
    await closed;
    await assert.rejects(fetch(`${url}/healthz`));
  });
});
