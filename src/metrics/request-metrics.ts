/**
 * A request counter and latency histogram with the same three labels, and a
 * cache of their per-label-set series: the hot path finds a series pair by
 * three map lookups and records a request with a few additions
 * (fast-metrics.ts).
 */
import type { Registry } from 'prom-client';
import { type CounterSeries, FastCounter, FastHistogram, type HistogramSeries } from './fast-metrics.js';

/** One label set's counter and histogram. */
interface Series {
  count: CounterSeries;
  seconds: HistogramSeries;
}

/**
 * A counter `<prefix>_requests_total` and a histogram
 * `<prefix>_request_duration_seconds`, both labelled by three names.
 */
export class RequestMetrics<L extends string> {
  private readonly count: FastCounter;
  private readonly seconds: FastHistogram;
  private readonly series = new Map<string, Map<string, Map<string | number, Series>>>();

  constructor(
    register: Registry,
    prefix: string,
    what: string,
    private readonly labelNames: readonly [L, L, L],
    buckets: readonly number[],
  ) {
    const by = labelNames.join(', ');
    this.count = new FastCounter(`${prefix}_requests_total`, `${what} answered, by ${by}.`, [register]);
    this.seconds = new FastHistogram(
      `${prefix}_request_duration_seconds`,
      `${what}: time from arrival to answer in seconds, by ${by}.`,
      buckets,
      [register],
    );
  }

  /** Count one request with label values a, b, c (in labelNames order) that took `ms` milliseconds. */
  observe(a: string, b: string, c: string | number, ms: number): void {
    let byB = this.series.get(a);
    if (byB === undefined) {
      byB = new Map();
      this.series.set(a, byB);
    }
    let byC = byB.get(b);
    if (byC === undefined) {
      byC = new Map();
      byB.set(b, byC);
    }
    let s = byC.get(c);
    if (s === undefined) {
      const [na, nb, nc] = this.labelNames;
      const labels = { [na]: a, [nb]: b, [nc]: String(c) };
      s = { count: this.count.child(labels), seconds: this.seconds.child(labels) };
      byC.set(c, s);
    }
    s.count.inc();
    s.seconds.observe(ms / 1000);
  }
}
