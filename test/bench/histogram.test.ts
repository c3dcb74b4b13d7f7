/**
 * The benchmark's latency histogram: percentiles of known distributions
 * match the exact values within the histogram's 1 % precision, and merge,
 * mean, max and count are exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HISTOGRAM_MAX_US, Histogram } from '../../scripts/bench/histogram.js';

/** The exact value of rank ceil(p/100 * n) in ascending `sorted`. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** A small deterministic PRNG (mulberry32), so the test never flakes. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PERCENTILES = [1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

function assertWithin(actual: number, expected: number, what: string): void {
  const tolerance = Math.max(1, expected * 0.01);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within 1% of ${expected}`);
}

test('uniform 1..100000 µs: every percentile within 1%', () => {
  const h = new Histogram();
  for (let v = 1; v <= 100_000; v++) h.record(v);
  assert.equal(h.count, 100_000);
  assert.equal(h.max, 100_000);
  assert.equal(h.min, 1);
  assert.equal(h.mean, 50_000.5);
  for (const p of PERCENTILES) assertWithin(h.percentile(p), Math.max(1, Math.ceil(p * 1000)), `p${p}`);
});

test('log-normal latencies from 50 µs to seconds: percentiles match the exact sorted values', () => {
  const next = rng(42);
  const values: number[] = [];
  const h = new Histogram();
  for (let i = 0; i < 200_000; i++) {
    // Box-Muller: a normal deviate, then exp() around a 2 ms median.
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const v = Math.round(Math.max(50, 2000 * Math.exp(1.2 * z)));
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  for (const p of PERCENTILES) assertWithin(h.percentile(p), exactPercentile(values, p), `p${p}`);
  assert.equal(h.max, values[values.length - 1]);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(Math.abs(h.mean - mean) < 1e-6 * mean);
});

test('small values are exact, and values beyond 60 s are clamped into the top bucket', () => {
  const h = new Histogram();
  for (const v of [0, 1, 2, 3, 127]) h.record(v);
  assert.equal(h.percentile(20), 0);
  assert.equal(h.percentile(40), 1);
  assert.equal(h.percentile(60), 2);
  assert.equal(h.percentile(80), 3);
  assert.equal(h.percentile(100), 127);
  h.record(HISTOGRAM_MAX_US * 10);
  assert.equal(h.max, HISTOGRAM_MAX_US * 10);
  assertWithin(h.percentile(99.99), HISTOGRAM_MAX_US, 'clamped');
});

test('merge adds counts, and percentiles of the merge match one histogram of all values', () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let v = 1; v <= 5000; v++) {
    (v % 3 === 0 ? a : b).record(v * 7);
    all.record(v * 7);
  }
  a.merge(b);
  assert.equal(a.count, all.count);
  assert.equal(a.max, all.max);
  assert.equal(a.min, all.min);
  assert.equal(a.mean, all.mean);
  for (const p of PERCENTILES) assert.equal(a.percentile(p), all.percentile(p));
});

test('an empty histogram reads as zeros', () => {
  const h = new Histogram();
  assert.equal(h.count, 0);
  assert.equal(h.percentile(99), 0);
  assert.equal(h.mean, 0);
  assert.equal(h.max, 0);
  assert.deepEqual(h.summary(), { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
});
