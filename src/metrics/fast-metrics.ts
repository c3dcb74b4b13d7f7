/**
 * A counter and a histogram for the per-request hot path, rendered through
 * prom-client's registry exactly as its own Counter and Histogram render
 * (test/metrics/fast-metrics.test.ts compares the text).
 *
 * Why not prom-client's: its labelled child still converts, validates and
 * hashes the label object on every inc() and observe() (about 1.9 µs per HTTP
 * request for a counter and a histogram), and a leader under write load
 * spends its one event loop on each request; here a series is found once,
 * by the caller, and an observation is a bucket search and three additions.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** One value of a metric as prom-client's registry renders it. */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

/** A metric's values as prom-client hands them to its registry. */
interface MetricValues {
  name: string;
  help: string;
  type: string;
  values: Sample[];
  aggregator: 'sum';
}

/**
 * What prom-client's registry asks of a metric: a name, and its values at scrape time (the text
 * page reads getForPromString when there is one, JSON and aggregation read get).
 */
interface RenderedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<MetricValues>;
  reset(): void;
}

/** Register a metric of ours: the registry only reads it through get() (the cast is the only tie). */
function register(metric: RenderedMetric, registers: readonly Registry[]): void {
  for (const r of registers) r.registerMetric(metric as unknown as Metric);
}

/** One label set of a FastCounter. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    if (!(by >= 0)) throw new Error(`a counter only goes up (by ${by})`);
    this.value += by;
  }
}

/** A counter whose series are looked up once and kept by the caller. */
export class FastCounter implements RenderedMetric {
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  private readonly series: CounterSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    registers: readonly Registry[],
  ) {
    register(this, registers);
  }

  /** A new series with these labels (the caller keeps it: asking twice makes two). */
  child(labels: Labels = {}): CounterSeries {
    const s = new CounterSeries(labels);
    this.series.push(s);
    return s;
  }

  async get(): Promise<MetricValues> {
    const values = this.series.map((s) => ({ labels: { ...s.labels }, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** A registry reset: every series back to zero (prom-client drops labelled ones until counted again). */
  reset(): void {
    for (const s of this.series) s.value = 0;
  }
}

/** One label set of a FastHistogram. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Count `value`; one that is not a finite number is dropped (it would poison the sum for good). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** A histogram whose series are looked up once and kept by the caller. */
export class FastHistogram implements RenderedMetric {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: readonly number[];
  private readonly series: HistogramSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: readonly Registry[],
  ) {
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) {
      throw new Error(`${name}: bucket bounds must ascend: ${buckets.join(', ')}`);
    }
    this.bounds = [...buckets];
    register(this, registers);
  }

  /** A new series with these labels (the caller keeps it: asking twice makes two). */
  child(labels: Labels = {}): HistogramSeries {
    const s = new HistogramSeries(labels, this.bounds);
    this.series.push(s);
    return s;
  }

  /** The values with each series' labels merged into every sample's, as prom-client's get() gives them. */
  async get(): Promise<MetricValues> {
    const forText = await this.getForPromString();
    const values = forText.values.map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...forText, values };
  }

  /** The values with each series' labels apart from `le`, as the registry's text page wants them. */
  async getForPromString(): Promise<MetricValues> {
    const bucket = `${this.name}_bucket`;
    const values: Sample[] = [];
    for (const s of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** A registry reset: every series back to zero (prom-client drops them until observed again). */
  reset(): void {
    for (const s of this.series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
