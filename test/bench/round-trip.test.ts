/** The benchmark's append round trips: dkv's leader histogram read per follower. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  AnswerSampler,
  parseHistogramByLabel,
  RoundTripSampler,
  roundTripsBetween,
} from '../../scripts/bench/round-trip.js';

const METRIC = 'dkv_raft_append_round_trip_seconds';

function page(b: { count: number; sum: number }, c: { count: number; sum: number }): string {
  return [
    `# HELP ${METRIC} As leader: append round trips.`,
    `# TYPE ${METRIC} histogram`,
    `${METRIC}_bucket{le="0.001",peer="b"} 1`,
    `${METRIC}_bucket{le="+Inf",peer="b"} ${b.count}`,
    `${METRIC}_sum{peer="b"} ${b.sum}`,
    `${METRIC}_count{peer="b"} ${b.count}`,
    `${METRIC}_bucket{le="+Inf",peer="c"} ${c.count}`,
    `${METRIC}_sum{peer="c"} ${c.sum}`,
    `${METRIC}_count{peer="c"} ${c.count}`,
    '',
  ].join('\n');
}

test('parseHistogramByLabel sums count and sum per label value', () => {
  const m = parseHistogramByLabel(page({ count: 4, sum: 0.01 }, { count: 2, sum: 0.5 }), METRIC, 'peer');
  assert.deepEqual([...m.keys()].sort(), ['b', 'c']);
  assert.deepEqual(m.get('b'), { count: 4, sum: 0.01 });
  assert.deepEqual(m.get('c'), { count: 2, sum: 0.5 });
  assert.equal(
    parseHistogramByLabel(page({ count: 1, sum: 1 }, { count: 1, sum: 1 }), 'nope', 'peer').size,
    0,
  );
});

test('roundTripsBetween gives each follower its mean over the period, NaN where nothing was timed', () => {
  const before = new Map([['b', { count: 10, sum: 0.02 }]]);
  const after = new Map([
    ['b', { count: 14, sum: 0.03 }],
    ['c', { count: 5, sum: 0.01 }],
  ]);
  const r = roundTripsBetween(before, after, ['b', 'c', 'd']);
  assert.equal(r[0]!.id, 'b');
  assert.ok(Math.abs(r[0]!.meanMs - 2.5) < 1e-9, `b ${r[0]!.meanMs}`);
  assert.ok(Math.abs(r[1]!.meanMs - 2) < 1e-9, 'c appeared during the period: counted from zero');
  assert.ok(Number.isNaN(r[2]!.meanMs), 'd was never timed');
  assert.ok(roundTripsBetween(null, null, ['b']).every((x) => Number.isNaN(x.meanMs)));
  assert.ok(
    Number.isNaN(roundTripsBetween(null, after, ['b'])[0]!.meanMs),
    'a failed first reading gives no figure, not the totals since start',
  );
});

test('RoundTripSampler scrapes a real /metrics endpoint before and after', async () => {
  let body = page({ count: 1, sum: 0.001 }, { count: 1, sum: 0.002 });
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const sampler = new RoundTripSampler({ id: 'a', restUrl: `http://127.0.0.1:${port}` }, METRIC, [
      'b',
      'c',
    ]);
    await sampler.start();
    body = page({ count: 3, sum: 0.009 }, { count: 1, sum: 0.002 });
    const r = await sampler.stop();
    assert.ok(Math.abs(r[0]!.meanMs - 4) < 1e-9, `b ${r[0]!.meanMs}`);
    assert.ok(Number.isNaN(r[1]!.meanMs), 'no append to c in between');
    // Unreachable: no figures rather than wrong ones.
    const gone = new RoundTripSampler({ id: 'a', restUrl: 'http://127.0.0.1:1' }, METRIC, ['b']);
    await gone.start();
    assert.ok(Number.isNaN((await gone.stop())[0]!.meanMs));
  } finally {
    server.close();
  }
});

const ANSWER = 'dkv_raft_append_answer_seconds';

function answerPage(count: number, sum: number): string {
  return [
    `# HELP ${ANSWER} As follower: append answers.`,
    `# TYPE ${ANSWER} histogram`,
    `${ANSWER}_bucket{le="+Inf"} ${count}`,
    `${ANSWER}_sum ${sum}`,
    `${ANSWER}_count ${count}`,
    '',
  ].join('\n');
}

test('AnswerSampler reads each follower its own mean answer over the period', async () => {
  const bodies = [answerPage(10, 0.02), answerPage(0, 0)];
  const servers = bodies.map((_, i) =>
    createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(bodies[i]);
    }),
  );
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  try {
    const url = (i: number) => `http://127.0.0.1:${(servers[i]!.address() as AddressInfo).port}`;
    const sampler = new AnswerSampler(
      [
        { id: 'b', restUrl: url(0) },
        { id: 'c', restUrl: url(1) },
        { id: 'd', restUrl: 'http://127.0.0.1:1' },
      ],
      ANSWER,
    );
    await sampler.start();
    bodies[0] = answerPage(14, 0.03);
    const r = await sampler.stop();
    assert.deepEqual(
      r.map((x) => x.id),
      ['b', 'c', 'd'],
    );
    assert.ok(Math.abs(r[0]!.meanMs - 2.5) < 1e-9, `b ${r[0]!.meanMs}`);
    assert.ok(Number.isNaN(r[1]!.meanMs), 'c answered nothing in between');
    assert.ok(Number.isNaN(r[2]!.meanMs), 'd cannot be reached: no figure rather than a wrong one');
  } finally {
    for (const s of servers) s.close();
  }
});
