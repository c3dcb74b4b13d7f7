/**
 * A request counter and latency histogram with the same three labels, and a
 * cache of their per-label-set children: the hot path finds a child pair by
 * three map lookups instead of having prom-client hash a label object per
 * request.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** One label set's counter and histogram. */
interface Series {
  count: Counter.Internal;
  seconds: Histogram.Internal<string>;
}

/**
 * A counter `<prefix>_requests_total` and a histogram
 * `<prefix>_request_duration_seconds`, both labelled by three names.
 */
export class RequestMetrics<L extends string> {
  private readonly count: Counter<L>;
  private readonly seconds: Histogram<L>;
  private readonly series = new Map<string, Map<string, Map<string | number, Series>>>();

  constructor(
    register: Registry,
    prefix: string,
    what: string,
    private readonly labelNames: readonly [L, L, L],
    buckets: readonly number[],
  ) {
    const by = labelNames.join(', ');
    this.count = new Counter({
      name: `${prefix}_requests_total`,
      help: `${what} answered, by ${by}.`,
      labelNames,
      registers: [register],
    });
    this.seconds = new Histogram({
      name: `${prefix}_request_duration_seconds`,
      help: `${what}: time from arrival to answer in seconds, by ${by}.`,
      labelNames,
      buckets: [...buckets],
      registers: [register],
    });
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
      const labels = { [na]: a, [nb]: b, [nc]: String(c) } as Record<L, string>;
      s = { count: this.count.labels(labels), seconds: this.seconds.labels(labels) };
      byC.set(c, s);
    }
    s.count.inc();
    s.seconds.observe(ms / 1000);
  }
}
