/**
 * What a cell cost the disk, for dkv and etcd alike: the block device's
 * write requests and cache flushes (from /proc/diskstats, the whole machine's,
 * for the device that holds the cluster's data), and each server's durable log
 * writes as it times them itself (a Prometheus histogram on its /metrics: dkv's
 * LMDB durable commit, etcd's WAL fsync). A durable write's time inside a busy
 * cluster is what paces a write at one client; the requests per write show why
 * one store's durable write costs more than another's on the same disk.
 */
import { readFileSync, statSync } from 'node:fs';
import { parsePromText, samples, total } from '../prom-text.js';

/** A block device's counters (since boot) from one line of /proc/diskstats. */
export interface DiskCounters {
  /** Write requests completed. */
  writes: number;
  /** Cache flush requests completed (0 on kernels before 5.5, which do not count them). */
  flushes: number;
}

/** `device`'s counters in /proc/diskstats text; null if the device is not listed. */
export function parseDiskstats(text: string, device: string): DiskCounters | null {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // major minor name, then reads (4 fields), writes (4), in flight, io ms, weighted ms,
    // discards (4) and, since Linux 5.5, flushes completed and ms spent flushing.
    if (f[2] !== device) continue;
    return { writes: Number(f[7]), flushes: f.length >= 20 ? Number(f[18]) : 0 };
  }
  return null;
}

/** The block device (whole disk, not partition) that holds `path`, e.g. `vda`; null if unknown. */
export function blockDeviceOf(path: string): string | null {
  try {
    const dev = statSync(path).dev;
    const major = (dev >> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    const uevent = (dir: string) => readFileSync(`${dir}/uevent`, 'utf8');
    const dir = `/sys/dev/block/${major}:${minor}`;
    const own = uevent(dir);
    const name = /^DEVNAME=(.+)$/m.exec(own)?.[1];
    if (!name) return null;
    // A partition's parent directory is its disk, whose counters include the flushes.
    if (/^DEVTYPE=partition$/m.test(own)) return /^DEVNAME=(.+)$/m.exec(uevent(`${dir}/..`))?.[1] ?? null;
    return name;
  } catch {
    return null;
  }
}

/** The count and sum of a Prometheus histogram, all label sets together. */
export interface HistogramTotals {
  count: number;
  sum: number;
}

/**
 * `metric`'s `_count` and `_sum` in Prometheus text, summed over label sets; null if absent.
 * Throws PromTextError if the text is not a valid exposition.
 */
export function parseHistogramTotals(text: string, metric: string): HistogramTotals | null {
  const families = parsePromText(text);
  if (samples(families, `${metric}_count`).length === 0) return null;
  return { count: total(families, `${metric}_count`), sum: total(families, `${metric}_sum`) };
}

/** The mean (ms) of what a histogram observed between two readings of it; NaN if nothing or a reading is missing. */
export function meanMsBetween(
  a: HistogramTotals | null | undefined,
  b: HistogramTotals | null | undefined,
): number {
  if (!a || !b) return Number.NaN;
  const count = b.count - a.count;
  return count > 0 ? ((b.sum - a.sum) / count) * 1000 : Number.NaN;
}

/** A server whose durable writes are scraped. */
export interface MetricsServer {
  id: string;
  /** Base URL serving GET /metrics. */
  restUrl: string;
}

/** A server's durable log writes over a cell. */
export interface DurableWrites {
  id: string;
  /** Durable writes per second. */
  perSecond: number;
  /** Their mean time in milliseconds, as the server measured it; NaN if none or no metrics. */
  meanMs: number;
}

/** The disk's figures over a cell. */
export interface DiskStats {
  /** The block device counted, e.g. `vda`; null when it could not be found. */
  device: string | null;
  /** Write requests per second on the device (the whole machine's). */
  writesPerSecond: number;
  /** Cache flushes per second on the device. */
  flushesPerSecond: number;
  /** Per server, in the order given (leader first). */
  servers: DurableWrites[];
}

/**
 * `parse` applied to a server's /metrics text; null if the server cannot be reached within 2 s
 * or `parse` throws (metrics that do not parse): no figures rather than wrong ones.
 */
export async function scrapeMetrics<T>(server: MetricsServer, parse: (text: string) => T): Promise<T | null> {
  try {
    const res = await fetch(`${server.restUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? parse(await res.text()) : null;
  } catch {
    return null;
  }
}

/** A server's `metric` count and sum now; null if it cannot be scraped or does not report it. */
export function scrapeHistogramTotals(
  server: MetricsServer,
  metric: string,
): Promise<HistogramTotals | null> {
  return scrapeMetrics(server, (text) => parseHistogramTotals(text, metric));
}

/** `device`'s counters now, from /proc/diskstats; null if unknown or unreadable. */
export function readDiskCounters(device: string | null): DiskCounters | null {
  if (device === null) return null;
  try {
    return parseDiskstats(readFileSync('/proc/diskstats', 'utf8'), device);
  } catch {
    return null;
  }
}

/** Samples the disk and the servers' durable-write histogram from start() to stop(). */
export class DiskSampler {
  private readonly device: string | null;
  private startWall = 0;
  private startCounters: DiskCounters | null = null;
  private startTotals: (HistogramTotals | null)[] = [];

  constructor(
    private readonly servers: MetricsServer[],
    /** The histogram of durable log writes, e.g. `dkv_storage_fsync_duration_seconds`. */
    private readonly metric: string,
    /** A path on the cluster's data disk. */
    dataPath: string,
  ) {
    this.device = blockDeviceOf(dataPath);
  }

  async start(): Promise<void> {
    this.startTotals = await Promise.all(this.servers.map((s) => scrapeHistogramTotals(s, this.metric)));
    this.startCounters = readDiskCounters(this.device);
    this.startWall = performance.now();
  }

  async stop(): Promise<DiskStats> {
    const wall = (performance.now() - this.startWall) / 1000;
    const end = readDiskCounters(this.device);
    const totals = await Promise.all(this.servers.map((s) => scrapeHistogramTotals(s, this.metric)));
    const rate = (n: number) => (wall > 0 ? n / wall : Number.NaN);
    const start = this.startCounters;
    return {
      device: this.device,
      writesPerSecond: start && end ? rate(end.writes - start.writes) : Number.NaN,
      flushesPerSecond: start && end ? rate(end.flushes - start.flushes) : Number.NaN,
      servers: this.servers.map((s, i) => {
        const a = this.startTotals[i];
        const b = totals[i];
        return {
          id: s.id,
          perSecond: rate(a && b ? b.count - a.count : Number.NaN),
          meanMs: meanMsBetween(a, b),
        };
      }),
    };
  }
}

/** Block write requests and flushes per client request, from a cell's rates; NaN if none served. */
export function diskPerRequest(
  disk: DiskStats,
  throughput: number,
): { writes: number; flushes: number; durableWrites: number } {
  const per = (x: number) => (throughput > 0 ? x / throughput : Number.NaN);
  return {
    writes: per(disk.writesPerSecond),
    flushes: per(disk.flushesPerSecond),
    durableWrites: per(disk.servers.reduce((s, d) => s + d.perSecond, 0)),
  };
}

/** The mean durable write time over all servers, each weighted by its writes; NaN if none. */
export function meanDurableWriteMs(disk: DiskStats): number {
  let n = 0;
  let ms = 0;
  for (const d of disk.servers) {
    if (!(d.perSecond > 0) || !Number.isFinite(d.meanMs)) continue;
    n += d.perSecond;
    ms += d.perSecond * d.meanMs;
  }
  return n > 0 ? ms / n : Number.NaN;
}
