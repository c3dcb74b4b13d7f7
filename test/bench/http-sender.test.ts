/**
 * The load generator's raw HTTP/1.1 sender: ReplyReader on hand-made byte streams, and HttpSender
 * against a raw TCP server that answers in pieces, chunked, with errors, closes, or not at all.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { HttpSender } from '../../scripts/bench/http-sender.js';
import { ReplyReader } from '../../scripts/bench/http1-reply.js';
import { Workload } from '../../scripts/bench/workload.js';

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('ReplyReader', () => {
  test('a content-length reply, whole or one byte at a time', () => {
    const bytes = Buffer.from(ok('{"message":"success"}'));
    assert.deepEqual(new ReplyReader().push(bytes), {
      status: 200,
      body: Buffer.from('{"message":"success"}'),
      close: false,
    });
    const r = new ReplyReader();
    for (let i = 0; i < bytes.length - 1; i++) assert.equal(r.push(bytes.subarray(i, i + 1)), null);
    assert.equal(r.push(bytes.subarray(bytes.length - 1))?.body.toString(), '{"message":"success"}');
  });

  test('a chunked reply with an extension and a trailer, split mid-chunk', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;ext=1\r\n{"cod\r\n' +
        'a\r\ne":14,"x":\r\n' +
        '1\r\n}\r\n0\r\nX-Trailer: y\r\n\r\n',
    );
    const r = new ReplyReader();
    assert.equal(r.push(bytes.subarray(0, 70)), null);
    const reply = r.push(bytes.subarray(70));
    assert.equal(reply?.status, 503);
    assert.equal(reply?.body.toString(), '{"code":14,"x":}');
  });

  test('connection close: asked for, or HTTP/1.0; 204 carries no body', () => {
    assert.equal(new ReplyReader().push(Buffer.from(ok('{}', 'Connection: close\r\n')))?.close, true);
    assert.equal(
      new ReplyReader().push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'))?.close,
      true,
    );
    assert.deepEqual(new ReplyReader().push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')), {
      status: 204,
      body: Buffer.alloc(0),
      close: false,
    });
  });

  test('bytes that are not one framed reply are refused', () => {
    assert.throws(
      () => new ReplyReader().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')),
      /not an HTTP\/1.x status line/,
    );
    assert.throws(
      () => new ReplyReader().push(Buffer.from(`${ok('{}')}HTTP/1.1`)),
      /8 bytes after the reply/,
    );
    assert.throws(
      () => new ReplyReader().push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')),
      /neither content-length/,
    );
    assert.throws(
      () =>
        new ReplyReader().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')),
      /bad chunk size/,
    );
  });
});

/**
 * A raw TCP server; `onRequest` gets each request's socket and its count so far (1-based), and
 * `received()` every request's bytes (latin1) in order.
 */
async function rawServer(onRequest: (socket: net.Socket, n: number) => void) {
  let n = 0;
  const received: string[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      // Requests end with their body: the bench's POST bodies are JSON objects, GETs have none.
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        received.push(buffered.slice(0, end + 4 + length));
        buffered = buffered.slice(end + 4 + length);
        onRequest(socket, ++n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { base, close, connections: () => connections, requests: () => n, received: () => received };
}

/** Send one request (a put's value carrying write number `seq`) on connection `conn` and resolve with how it ended. */
function sendOne(
  sender: HttpSender,
  conn: number,
  key = 1,
  seq = 1,
): Promise<{ kind: string | null; detail?: string }> {
  return new Promise((resolve) => sender.send(conn, key, seq, (kind, detail) => resolve({ kind, detail })));
}

describe('HttpSender', () => {
  const servers: { close: () => Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('replies in pieces and chunked ones succeed; each request is a well-formed POST carrying its write number', async () => {
    const srv = await rawServer((socket, n) => {
      if (n === 1) {
        const reply = ok('{"message":"success","revision":"7"}');
        socket.write(reply.slice(0, 10));
        setTimeout(() => socket.write(reply.slice(10)), 20);
      } else socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
    });
    servers.push(srv);
    const sender = new HttpSender([srv.base], 1, new Workload('dkv', 'put', 10, 15), 5000);
    await sender.open();
    assert.deepEqual(await sendOne(sender, 0, 1, 7), { kind: null, detail: undefined });
    assert.deepEqual(await sendOne(sender, 0, 1, 123456789012), { kind: null, detail: undefined });
    assert.equal(srv.connections(), 1, 'both on one keep-alive socket');
    sender.close();
    // What went on the wire for key 1: the same request but for the value's write number.
    const values = srv.received().map((seen) => {
      assert.match(seen, /^POST \/v0\/kv HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      assert.equal(
        Number(/content-length: (\d+)/.exec(seen)?.[1]),
        seen.slice(seen.indexOf('\r\n\r\n') + 4).length,
      );
      const body = JSON.parse(seen.slice(seen.indexOf('\r\n\r\n') + 4)) as { key: string; value: string };
      assert.equal(Buffer.from(body.key, 'base64').toString(), 'bench-00000001');
      return Buffer.from(body.value, 'base64').toString();
    });
    assert.deepEqual(values, ['000000000007mno', '123456789012mno']);
  });

  test('an error status ends as an error with its body; Connection: close reconnects for the next', async () => {
    const srv = await rawServer((socket, n) => {
      if (n === 1)
        socket.end(ok('{"code":14}', 'Connection: close\r\n').replace('200 OK', '503 Service Unavailable'));
      else socket.write(ok('{}'));
    });
    servers.push(srv);
    const sender = new HttpSender([srv.base], 1, new Workload('dkv', 'get', 10, 3), 5000);
    await sender.open();
    assert.deepEqual(await sendOne(sender, 0), { kind: 'http 503', detail: '{"code":14}' });
    assert.deepEqual(await sendOne(sender, 0), { kind: null, detail: undefined });
    assert.equal(srv.connections(), 2);
    sender.close();
  });

  test('no reply: timeout, and the connection works again after it; a reset ends as a socket error', async () => {
    const srv = await rawServer((socket, n) => {
      if (n === 1) return; // never answers
      if (n === 2) socket.destroy();
      else socket.write(ok('{}'));
    });
    servers.push(srv);
    const sender = new HttpSender([srv.base], 1, new Workload('dkv', 'get', 10, 3), 150);
    await sender.open();
    const timedOut = await sendOne(sender, 0);
    assert.equal(timedOut.kind, 'timeout');
    const reset = await sendOne(sender, 0);
    assert.match(reset.kind ?? '', /^socket /);
    assert.deepEqual(await sendOne(sender, 0), { kind: null, detail: undefined });
    sender.close();
  });

  test('more requests than connections wait their turn and all complete, in order', async () => {
    const srv = await rawServer((socket) => setTimeout(() => socket.write(ok('{}')), 5));
    servers.push(srv);
    const sender = new HttpSender([srv.base], 1, new Workload('dkv', 'put', 10, 12), 5000);
    await sender.open();
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) => sendOne(sender, i).then((r) => order.push(r.kind === null ? i : -1))),
    );
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(srv.requests(), 4);
    assert.equal(srv.connections(), 1);
    sender.close();
  });

  test('close() ends what is in flight and waiting with "closed"', async () => {
    const srv = await rawServer(() => {});
    servers.push(srv);
    const sender = new HttpSender([srv.base], 1, new Workload('dkv', 'put', 10, 12), 5000);
    await sender.open();
    const a = sendOne(sender, 0);
    const b = sendOne(sender, 0);
    await new Promise((r) => setTimeout(r, 20));
    sender.close();
    assert.deepEqual(await Promise.all([a, b]), [
      { kind: 'closed', detail: undefined },
      { kind: 'closed', detail: undefined },
    ]);
  });
});
