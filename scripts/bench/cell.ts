/**
 * One benchmark cell: one operation at one concurrency on one node of a
 * running cluster (dkv or etcd), with the servers' CPU and RSS, the disk's
 * work and the machine's stolen and idle CPU time sampled over the run, and
 * the leader checked before and after it (a leader change under load is
 * reported, and later cells follow the new leader). After a cell of puts,
 * the keyspace is read back to show that no acknowledged write was lost
 * (write-ledger.ts).
 */

import { nonNegativeFlag, numberFlag } from './args.js';
import type { BenchCluster, BenchNode, LeaderInfo } from './bench-cluster.js';
import { DiskSampler, type DiskStats } from './disk-stats.js';
import { type LoadResult, runLoad } from './load.js';
import { MachineSampler, type MachineStats } from './machine-stats.js';
import { preloadKeys } from './preload.js';
import { type ProcessStats, ProcSampler } from './proc-stats.js';
import { readBack } from './read-back.js';
import { fmtLost, fmtMs, fmtRate } from './report.js';
import { AnswerSampler, RoundTripSampler, type RoundTrips } from './round-trip.js';
import type { Operation } from './workload.js';
import { STAMP_BYTES, type WriteCheck } from './write-ledger.js';

/** Which node a cell's requests go to. */
export type NodeChoice = 'leader' | 'follower';

/** What a cell runs. */
export interface CellSpec {
  op: Operation;
  node: NodeChoice;
  connections: number;
  protocol: 'http' | 'grpc';
  /** Open loop at this rate (req/s); closed loop when absent. */
  rate?: number;
}

/** Settings shared by every cell of a run. */
export interface CellSettings {
  durationMs: number;
  warmupMs: number;
  /**
   * Before the first cell, every cell's load runs unmeasured for a share of this, so that no
   * cell pays for warming the servers up (V8 compiles dkv's hot paths for several seconds).
   */
  settleMs: number;
  keys: number;
  valueBytes: number;
  timeoutMs: number;
}

/**
 * Default seconds of settling load before the first cell (see CellSettings.settleMs).
 *
 * Why 20: a fresh dkv cluster under put load at one connection, after 3 s at 64, did 409, 503,
 * 530, 528 and 570 writes/s in its first five 5-second windows, its nodes' background threads
 * (V8's compilers) spending 572, 127, 53, 42 and 25 us of CPU per write; at 5 s of settling
 * the first measured cell still paid for that. etcd, compiled ahead of time, needs none of it.
 */
export const SETTLE_S = 20;

/** The parseArgs options both benchmark scripts take for CellSettings. */
export const CELL_SETTING_OPTIONS = {
  duration: { type: 'string' },
  warmup: { type: 'string' },
  settle: { type: 'string' },
  keys: { type: 'string' },
  'value-bytes': { type: 'string' },
  timeout: { type: 'string' },
} as const;

/**
 * CellSettings from the flags of CELL_SETTING_OPTIONS; `durationS` is the default duration, and
 * the warm-up defaults to `warmupS` or else 20% of the duration, at most 2 s; the settling to
 * `settleS` or else SETTLE_S.
 */
export function cellSettingsFromFlags(
  values: Partial<Record<keyof typeof CELL_SETTING_OPTIONS, string>>,
  defaults: { durationS: number; warmupS?: number; settleS?: number },
): CellSettings {
  const duration = numberFlag('duration', values.duration, defaults.durationS);
  return {
    durationMs: duration * 1000,
    warmupMs: numberFlag('warmup', values.warmup, defaults.warmupS ?? Math.min(2, duration * 0.2)) * 1000,
    settleMs: nonNegativeFlag('settle', values.settle, defaults.settleS ?? SETTLE_S) * 1000,
    keys: boundedInt('keys', values.keys, 10_000, 1, MAX_KEYS),
    valueBytes: boundedInt('value-bytes', values['value-bytes'], 100, STAMP_BYTES, MAX_VALUE_BYTES),
    timeoutMs: numberFlag('timeout', values.timeout, 10) * 1000,
  };
}

/** Benchmark keys have 8 digits (workload.ts). */
const MAX_KEYS = 100_000_000;
/** The largest value both systems take in a request (dkv's limit is 1 MiB of value). */
const MAX_VALUE_BYTES = 1_000_000;

/** A whole-number flag within `[min, max]`; the bounds are named in the refusal. */
function boundedInt(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const n = Math.round(numberFlag(name, value, fallback));
  if (n < min || n > max) {
    const why =
      name === 'value-bytes' ? ` (each put's value carries its write's number in ${STAMP_BYTES} bytes)` : '';
    throw new Error(`--${name}: expected ${min} to ${max}, got "${value}"${why}`);
  }
  return n;
}

/** A server's figures over a cell, with its role. */
export interface ServerStats extends ProcessStats {
  role: 'leader' | 'follower';
}

/** The outcome of one cell. */
export interface CellResult {
  name: string;
  system: string;
  spec: CellSpec;
  /** The node the requests went to. */
  target: string;
  load: LoadResult;
  /** Leader first, then the followers. */
  servers: ServerStats[];
  /** The data disk's requests and the servers' durable log writes (leader first). */
  disk: DiskStats;
  /** The whole machine over the cell (warm-up included): CPU time stolen by the host, and idle. */
  machine: MachineStats;
  /** The leader's append round trips per follower (followers in order); empty if the system reports none. */
  appendRoundTrips: RoundTrips[];
  /** Each follower's time from reading an append to acknowledging it (in order); empty if the system reports none. */
  appendAnswers: RoundTrips[];
  leaderBefore: LeaderInfo;
  /** null when no leader was agreed on within 10 s after the cell. */
  leaderAfter: LeaderInfo | null;
  leaderChanged: boolean;
  /** For a cell of puts: every write so far judged against the keyspace read back after the cell. */
  writeCheck: WriteCheck | null;
}

/** A cell's short name, e.g. `put c=64 leader` or `get-serializable c=64 follower r=2000`. */
export function cellName(spec: CellSpec): string {
  const rate = spec.rate === undefined ? '' : ` r=${spec.rate}`;
  return `${spec.op} c=${spec.connections} ${spec.node}${rate}`;
}

/** The node a cell's requests go to, and its address for the cell's protocol. */
function cellTarget(cluster: BenchCluster, spec: CellSpec): { node: BenchNode; address: string } {
  const node = spec.node === 'leader' ? cluster.leader() : cluster.followers()[0]!;
  const address = spec.protocol === 'grpc' ? node.grpcAddress : node.restUrl;
  if (!address) throw new Error(`${cluster.system} has no ${spec.protocol} address`);
  return { node, address };
}

/** Run a cell's load against `address` for `durationMs` after `warmupMs`. */
function cellLoad(
  cluster: BenchCluster,
  spec: CellSpec,
  address: string,
  settings: CellSettings,
  timing: { durationMs: number; warmupMs: number; label?: string },
): ReturnType<typeof runLoad> {
  return runLoad({
    system: cluster.system,
    protocol: spec.protocol,
    targets: [address],
    op: spec.op,
    connections: spec.connections,
    rate: spec.rate,
    keys: settings.keys,
    valueBytes: settings.valueBytes,
    timeoutMs: settings.timeoutMs,
    ledger: cluster.writes,
    ...timing,
  });
}

/** Tries at reading the keyspace back before a check is reported as failed. */
const READ_BACK_TRIES = 3;

/**
 * Read the keyspace back through the leader and judge every put so far (write-ledger.ts). Call
 * it once the puts have all ended. A read-back that keeps failing (no leader, errors) does not
 * stop the run: the check is reported as failed, and the targets as not met.
 */
export async function checkWrites(cluster: BenchCluster, valueBytes: number): Promise<WriteCheck> {
  let reason = '';
  for (let attempt = 1; attempt <= READ_BACK_TRIES; attempt++) {
    try {
      await cluster.waitForLeader();
      const finals = await readBack(cluster.system, cluster.leader().restUrl, valueBytes);
      return cluster.writes.check(finals);
    } catch (err) {
      reason = (err as Error).message;
      if (attempt < READ_BACK_TRIES) await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return cluster.writes.unread(`no read-back in ${READ_BACK_TRIES} tries: ${reason}`);
}

/** Run one cell on `cluster`. */
export async function runCell(
  cluster: BenchCluster,
  spec: CellSpec,
  settings: CellSettings,
): Promise<CellResult> {
  const leaderBefore = await cluster.waitForLeader();
  const ordered = [cluster.leader(), ...cluster.followers()];
  const sampler = new ProcSampler(ordered.map((n) => ({ id: n.id, pid: n.pid })));
  const diskSampler = new DiskSampler(ordered, cluster.durableWriteMetric, cluster.dataDir);
  const machineSampler = new MachineSampler();
  const roundTrips = cluster.appendRoundTripMetric
    ? new RoundTripSampler(
        ordered[0]!,
        cluster.appendRoundTripMetric,
        ordered.slice(1).map((n) => n.id),
      )
    : null;
  const answers = cluster.appendAnswerMetric
    ? new AnswerSampler(ordered.slice(1), cluster.appendAnswerMetric)
    : null;
  const { node: target, address } = cellTarget(cluster, spec);
  const name = cellName(spec);
  await diskSampler.start();
  await roundTrips?.start();
  await answers?.start();
  sampler.start();
  machineSampler.start();
  const { result } = await cellLoad(cluster, spec, address, settings, {
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    label: `${cluster.system} ${name}`,
  });
  const machine = machineSampler.stop();
  const stats = sampler.stop();
  const disk = await diskSampler.stop();
  const appendRoundTrips = (await roundTrips?.stop()) ?? [];
  const appendAnswers = (await answers?.stop()) ?? [];
  let leaderAfter: LeaderInfo | null = null;
  try {
    leaderAfter = await cluster.waitForLeader(10_000);
  } catch {
    leaderAfter = null;
  }
  const writeCheck = spec.op === 'put' ? await checkWrites(cluster, settings.valueBytes) : null;
  return {
    name,
    system: cluster.system,
    spec,
    target: target.id,
    load: result,
    servers: stats.map((s, i) => ({ ...s, role: i === 0 ? 'leader' : 'follower' })),
    disk,
    machine,
    appendRoundTrips,
    appendAnswers,
    leaderBefore,
    leaderAfter,
    leaderChanged:
      leaderAfter === null ||
      leaderAfter.leaderId !== leaderBefore.leaderId ||
      leaderAfter.term !== leaderBefore.term,
    writeCheck,
  };
}

/** A lost-write check after a phase of a run outside the cells (the preload, the settling load). */
export interface PhaseCheck {
  phase: string;
  check: WriteCheck;
}

/**
 * Before the first cell: preload the keyspace, then settle the servers (settle), checking the
 * writes after each. Returns the preload's puts per second and the checks.
 */
export async function preloadAndSettle(
  cluster: BenchCluster,
  specs: CellSpec[],
  settings: CellSettings,
): Promise<{ preloadRate: number; checks: PhaseCheck[] }> {
  const preloadRate = await preloadKeys(cluster, settings.keys, settings.valueBytes);
  const checks: PhaseCheck[] = [{ phase: 'preload', check: await checkWrites(cluster, settings.valueBytes) }];
  if (await settle(cluster, specs, settings)) {
    checks.push({ phase: 'settling', check: await checkWrites(cluster, settings.valueBytes) });
  }
  return { preloadRate, checks };
}

/**
 * Run every cell's load in turn, unmeasured, for settings.settleMs in all (at least 0.3 s each):
 * the same for every system, so that the servers are warm for every cell, not only later ones.
 * Returns whether it sent puts.
 */
async function settle(cluster: BenchCluster, specs: CellSpec[], settings: CellSettings): Promise<boolean> {
  if (settings.settleMs <= 0 || specs.length === 0) return false;
  const eachMs = Math.max(300, settings.settleMs / specs.length);
  for (const spec of specs) {
    await cluster.waitForLeader();
    await cellLoad(cluster, spec, cellTarget(cluster, spec).address, settings, {
      durationMs: eachMs,
      warmupMs: 0,
    });
  }
  return specs.some((s) => s.op === 'put');
}

/** One line summing up a finished cell, for stderr. */
export function cellLine(c: CellResult): string {
  const l = c.load.latency;
  return `${c.system} ${c.name}: ${fmtRate(c.load.throughput)} req/s, p50 ${fmtMs(l.p50Ms)} ms, p99 ${fmtMs(l.p99Ms)} ms, errors ${c.load.errorCount}, gen CPU ${c.load.generatorCpuPercent.toFixed(0)}%${c.writeCheck ? `, acknowledged writes lost ${fmtLost(c.writeCheck)}` : ''}`;
}
