/**
 * Histogram buckets, in seconds. Latency buckets span a local write's fraction
 * of a millisecond up to the request timeout; storage buckets double from
 * 100 µs (fsync) and 10 µs (apply), as etcd's disk histograms do.
 */
import { exponentialBuckets } from 'prom-client';

/** Client-visible latencies: proposals, gRPC and HTTP requests. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Durable storage writes: 100 µs to about 3.3 s. */
export const FSYNC_BUCKETS_SECONDS: readonly number[] = exponentialBuckets(0.0001, 2, 16);

/** Applying a batch of committed entries: 10 µs to about 1.3 s. */
export const APPLY_BUCKETS_SECONDS: readonly number[] = exponentialBuckets(0.00001, 2, 18);
