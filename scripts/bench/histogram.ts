/**
 * A log-linear latency histogram in the style of HdrHistogram, for
 * microsecond latencies from 1 µs to 60 s.
 *
 * Values below {@link SUB_BUCKETS} µs are counted exactly, one bucket each.
 * Above that, every power-of-two range [2^k, 2^(k+1)) is split into
 * {@link SUB_BUCKETS} / 2 ... {@link SUB_BUCKETS} equal buckets, so a bucket is
 * never wider than 1/128 of its lower bound: a value read back from the
 * histogram (the bucket's midpoint) is within 0.4 % of the true value, well
 * inside the 1 % the benchmark needs. 2,560 counters cover 1 µs .. 60 s; a
 * value above the range is counted in the top bucket (and still sets
 * {@link Histogram.max} exactly).
 */

/** Exact buckets below this many µs, and buckets per power of two above it. */
const SUB_BUCKETS = 128;
const SUB_BITS = 7; // log2(SUB_BUCKETS)
/** The highest value the buckets resolve: 60 s in µs. */
export const HISTOGRAM_MAX_US = 60_000_000;

/** Bucket index of an integer value in µs (0 <= v <= HISTOGRAM_MAX_US). */
function indexOf(v: number): number {
  if (v < SUB_BUCKETS) return v;
  // shift = position of the highest set bit minus SUB_BITS, so v >> shift is in [128, 256).
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + ((v >>> shift) - SUB_BUCKETS);
}

/** Lowest value and width (µs) of the bucket at `index`. */
function bucketOf(index: number): { low: number; width: number } {
  if (index < SUB_BUCKETS) return { low: index, width: 1 };
  const shift = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS);
  const sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
  return { low: (SUB_BUCKETS + sub) * 2 ** shift, width: 2 ** shift };
}

const BUCKETS = indexOf(HISTOGRAM_MAX_US) + 1;

/** A summary of a histogram in milliseconds, as written to the result files. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Latency histogram: record microsecond values, read percentiles, merge. */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  /** Count one value in µs (fractions are rounded; negatives count as 0). */
  record(us: number): void {
    const v = us <= 0 ? 0 : Math.round(us);
    const i = indexOf(v > HISTOGRAM_MAX_US ? HISTOGRAM_MAX_US : v);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total++;
    this.sum += v;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** How many values were recorded. */
  get count(): number {
    return this.total;
  }

  /** The exact mean in µs (0 when empty). */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** The exact largest value in µs (0 when empty). */
  get max(): number {
    return this.maxValue;
  }

  /** The exact smallest value in µs (0 when empty). */
  get min(): number {
    return this.total === 0 ? 0 : this.minValue;
  }

  /**
   * The value at percentile `p` (0..100) in µs: the value of rank
   * ceil(p/100 * count) in sorted order (at least rank 1), within the
   * histogram's precision; 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) {
        const { low, width } = bucketOf(i);
        const mid = width === 1 ? low : low + width / 2;
        return Math.min(this.maxValue, Math.max(this.minValue, mid));
      }
    }
    return this.maxValue;
  }

  /** Add every value of `other` to this histogram. */
  merge(other: Histogram): this {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minValue = Math.min(this.minValue, other.minValue);
      this.maxValue = Math.max(this.maxValue, other.maxValue);
    }
    return this;
  }

  /** The usual percentiles in milliseconds. */
  summary(): LatencySummary {
    const ms = (us: number) => us / 1000;
    return {
      count: this.total,
      meanMs: ms(this.mean),
      p50Ms: ms(this.percentile(50)),
      p90Ms: ms(this.percentile(90)),
      p99Ms: ms(this.percentile(99)),
      p999Ms: ms(this.percentile(99.9)),
      maxMs: ms(this.max),
    };
  }
}
