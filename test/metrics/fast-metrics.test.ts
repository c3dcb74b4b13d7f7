/**
 * The hot path's counter and histogram render, through prom-client's registry, the very text
 * prom-client's own Counter and Histogram render for the same observations.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import {
  type CounterSeries,
  FastCounter,
  FastHistogram,
  type HistogramSeries,
} from '../../src/metrics/fast-metrics.js';
import { Prng } from '../../src/raft/prng.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];
const LABELS = [
  { method: 'POST', route: '/v0/kv', code: '200' },
  { method: 'GET', route: '/v0/kv/key/{key}', code: '404' },
];

describe('fast metrics', () => {
  test('a labelled counter and histogram render as prom-client renders them', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const count = new FastCounter('x_requests_total', 'Requests.', [ours]);
    const seconds = new FastHistogram('x_request_duration_seconds', 'Latency.', BUCKETS, [ours]);
    const labelNames = ['method', 'route', 'code'];
    const refCount = new Counter({
      name: 'x_requests_total',
      help: 'Requests.',
      labelNames,
      registers: [theirs],
    });
    const refSeconds = new Histogram({
      name: 'x_request_duration_seconds',
      help: 'Latency.',
      labelNames,
      buckets: BUCKETS,
      registers: [theirs],
    });
    // Series are made on first use, as RequestMetrics makes them: prom-client lists them in that order.
    const made: { count: CounterSeries; seconds: HistogramSeries }[] = [];
    const series = (i: number) => {
      made[i] ??= { count: count.child(LABELS[i]!), seconds: seconds.child(LABELS[i]!) };
      return made[i]!;
    };
    const rng = new Prng(5);
    // Values on the bounds, between them, above them all, and zero.
    const values = [
      0,
      0.001,
      0.005,
      0.0051,
      1,
      1.5,
      42,
      ...Array.from({ length: 500 }, () => rng.next() * 1.2),
    ];
    for (const v of values) {
      const i = rng.int(LABELS.length);
      series(i).count.inc();
      series(i).seconds.observe(v);
      refCount.inc(LABELS[i]!);
      refSeconds.observe(LABELS[i]!, v);
    }
    series(0).count.inc(3);
    refCount.inc(LABELS[0]!, 3);
    assert.equal(await ours.metrics(), await theirs.metrics());
    // And as JSON (each sample's labels merged), which aggregation reads; we keep no exemplars.
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
      metrics.map((m) => ({
        ...m,
        values: m.values.map((v) => {
          const { exemplar: _, ...rest } = v as typeof v & { exemplar?: unknown };
          return rest;
        }),
      }));
    assert.deepEqual(
      withoutExemplars(await ours.getMetricsAsJSON()),
      withoutExemplars(await theirs.getMetricsAsJSON()),
    );
    assert.throws(() => new FastHistogram('z', 'Z.', [1, 0.5], []), /bucket bounds must ascend: 1, 0.5/);
  });

  test('an unlabelled counter and histogram are there, at zero, before their first observation', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const mine = new FastHistogram('y_seconds', 'Y.', BUCKETS, [ours]).child();
    const ref = new Histogram({ name: 'y_seconds', help: 'Y.', buckets: BUCKETS, registers: [theirs] });
    const myCount = new FastCounter('y_total', 'Ys.', [ours]).child();
    const refCount = new Counter({ name: 'y_total', help: 'Ys.', registers: [theirs] });
    assert.equal(await ours.metrics(), await theirs.metrics());
    mine.observe(0.002);
    ref.observe(0.002);
    myCount.inc(4);
    refCount.inc(4);
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.throws(() => myCount.inc(-1), /a counter only goes up/);
    // A registry reset zeroes the series (prom-client drops them until their next observation).
    ours.resetMetrics();
    assert.match(await ours.metrics(), /^y_seconds_count 0$/m);
  });
});
