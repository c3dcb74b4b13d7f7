/**
 * A quick throughput measurement of the peer transport over loopback (a
 * benchmark, not a test: it prints, it asserts nothing). Run with
 * `node --import tsx test/transport/bench-throughput.ts`.
 *
 * Node a sends small App messages (one 100-byte entry each) to node b, in
 * send() calls of 1 and of 64 messages, keeping a bounded number in flight
 * so the transport's queue bound never drops any. Then one message at a
 * time (send, wait for delivery): the unloaded one-way latency. Then a
 * 64 MiB snapshot in 1 MiB chunks.
 */
import { MessageType, makeMessage } from '../../src/raft/index.js';
import { appMessage, startNode } from './helpers.js';

const DURATION_MS = 1_500;
const WINDOW = 2_048;

async function run(batchSize: number): Promise<void> {
  const a = await startNode('a', { maxQueuedMessages: 100_000 });
  const b = await startNode('b');
  a.transport.setPeer('b', b.address);
  let received = 0;
  b.deliveries.push = (...items) => {
    for (const d of items) received += d.length;
    return 0;
  };
  const payload = new Uint8Array(100).fill(7);
  let sent = 0;
  // Warm the connection up.
  a.transport.send([appMessage('a', 'b', 0, payload)]);
  while (received < 1) await new Promise((resolve) => setTimeout(resolve, 1));
  sent = received = 0;

  const t0 = performance.now();
  while (performance.now() - t0 < DURATION_MS) {
    while (sent - received < WINDOW) {
      const batch = Array.from({ length: batchSize }, (_, i) => appMessage('a', 'b', sent + i, payload));
      a.transport.send(batch);
      sent += batchSize;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (received < sent && a.unreachable.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `batch of ${String(batchSize).padStart(2)}: ${Math.round(received / seconds).toLocaleString('en')} messages/s ` +
      `(${received} messages in ${seconds.toFixed(2)} s, dropped ${sent - received})`,
  );
  await a.stop();
  await b.stop();
}

async function oneAtATime(): Promise<void> {
  const a = await startNode('a');
  const b = await startNode('b');
  a.transport.setPeer('b', b.address);
  const payload = new Uint8Array(100);
  const n = 2_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    a.transport.send([appMessage('a', 'b', i, payload)]);
    while (b.deliveries.length <= i) await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = performance.now() - t0;
  console.log(
    `one at a time: ${Math.round((n / ms) * 1000).toLocaleString('en')} messages/s (${((ms / n) * 1000).toFixed(0)} µs each, first includes connecting)`,
  );
  await a.stop();
  await b.stop();
}

async function snapshot(): Promise<void> {
  const a = await startNode('a');
  const b = await startNode('b');
  a.transport.setPeer('b', b.address);
  const piece = new Uint8Array(1024 * 1024).fill(3);
  const m = makeMessage({
    type: MessageType.Snap,
    from: 'a',
    to: 'b',
    snapshot: {
      meta: { index: 1, term: 1, confState: { voters: ['a', 'b'], learners: [] } },
      data: new Uint8Array(),
    },
  });
  const t0 = performance.now();
  await a.transport.sendSnapshot(
    m,
    (async function* () {
      for (let i = 0; i < 64; i++) yield piece;
    })(),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(`snapshot: 64 MiB in ${s.toFixed(2)} s = ${Math.round(64 / s)} MiB/s`);
  await a.stop();
  await b.stop();
}

await run(1);
await run(64);
await oneAtATime();
await snapshot();
