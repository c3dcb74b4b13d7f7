/**
 * The leader's append round trips over a cell, per follower: dkv's
 * `dkv_raft_append_round_trip_seconds{peer}`, from an append leaving to the
 * follower's acknowledgement of it; and each follower's own time to answer
 * them, `dkv_raft_append_answer_seconds`, from reading an append to sending
 * its acknowledgement. The round trip less the answer is both network hops and
 * the leader's own loop; the answer less the durable write is the follower's
 * wait for its event loop. etcd has no such histograms (its peer round trip is
 * a probe's, without the fsync), so only dkv's clusters name them.
 */
import { parsePromText, samples } from '../prom-text.js';
import {
  type HistogramTotals,
  type MetricsServer,
  meanMsBetween,
  scrapeHistogramTotals,
  scrapeMetrics,
} from './disk-stats.js';

/** A follower's append round trips, or its answers to appends, over a cell. */
export interface RoundTrips {
  id: string;
  /** Mean time in milliseconds; NaN if no append was timed or no metrics. */
  meanMs: number;
}

/**
 * `metric`'s `_count` and `_sum` in Prometheus text, per value of `label` (samples without it
 * are left out). Throws PromTextError if the text is not a valid exposition.
 */
export function parseHistogramByLabel(
  text: string,
  metric: string,
  label: string,
): Map<string, HistogramTotals> {
  const families = parsePromText(text);
  const out = new Map<string, HistogramTotals>();
  const add = (suffix: 'count' | 'sum') => {
    for (const s of samples(families, `${metric}_${suffix}`)) {
      const key = s.labels[label];
      if (key === undefined) continue;
      const t = out.get(key) ?? { count: 0, sum: 0 };
      t[suffix] += s.value;
      out.set(key, t);
    }
  };
  add('count');
  add('sum');
  return out;
}

/**
 * Each follower's mean round trip (ms) between two readings, in `followers` order. A follower
 * absent from the first reading was timed for the first time in between (counted from zero);
 * a reading that failed (null) gives no figures.
 */
export function roundTripsBetween(
  before: Map<string, HistogramTotals> | null,
  after: Map<string, HistogramTotals> | null,
  followers: string[],
): RoundTrips[] {
  const none = { count: 0, sum: 0 };
  return followers.map((id) => ({
    id,
    meanMs: before === null ? Number.NaN : meanMsBetween(before.get(id) ?? none, after?.get(id)),
  }));
}

/** Samples the leader's append round trips per follower from start() to stop(). */
export class RoundTripSampler {
  private before: Map<string, HistogramTotals> | null = null;

  constructor(
    private readonly leader: MetricsServer,
    private readonly metric: string,
    private readonly followers: string[],
  ) {}

  private scrape(): Promise<Map<string, HistogramTotals> | null> {
    return scrapeMetrics(this.leader, (text) => parseHistogramByLabel(text, this.metric, 'peer'));
  }

  async start(): Promise<void> {
    this.before = await this.scrape();
  }

  async stop(): Promise<RoundTrips[]> {
    return roundTripsBetween(this.before, await this.scrape(), this.followers);
  }
}

/** Samples each follower's answer time to appends (a histogram on its own /metrics) from start() to stop(). */
export class AnswerSampler {
  private before: (HistogramTotals | null)[] = [];

  constructor(
    private readonly followers: MetricsServer[],
    private readonly metric: string,
  ) {}

  private scrape(): Promise<(HistogramTotals | null)[]> {
    return Promise.all(this.followers.map((f) => scrapeHistogramTotals(f, this.metric)));
  }

  async start(): Promise<void> {
    this.before = await this.scrape();
  }

  /** Each follower's mean answer (ms) over the period, in the order given; NaN where none was timed. */
  async stop(): Promise<RoundTrips[]> {
    const after = await this.scrape();
    return this.followers.map((f, i) => ({ id: f.id, meanMs: meanMsBetween(this.before[i], after[i]) }));
  }
}
