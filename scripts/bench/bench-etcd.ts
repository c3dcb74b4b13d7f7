/**
 * `npm run bench:etcd`: dkv against etcd 3.4 on the same machine, with the
 * same load. For each round, one system then the other (the order
 * alternates between rounds), a fresh three-node cluster is started in
 * temporary directories, its keyspace is preloaded, and the same cells run
 * through each system's HTTP/JSON API (dkv's /v0/kv, etcd's grpc-gateway
 * /v3/kv/put and /v3/kv/range); then it is stopped. With `--pairing cell`
 * both clusters of a round are up at once (the one not measured idles) and
 * each cell runs on one system then at once on the other, so that the two
 * halves of a ratio are seconds apart rather than minutes: this host's pace
 * moves from minute to minute. Only ratios measured in
 * one round are meaningful on a noisy machine, so per cell the script prints
 * the dkv/etcd ratios of throughput, p50 and p99 as the median over rounds,
 * with the medians of the figures themselves, errors, and each dkv node's
 * RSS after its run. Writes <out>/etcd-<time>.json, .md and .svg (p99
 * latency against throughput of the put cells).
 *
 *   npm run bench:etcd -- [--rounds 3] [--pairing system|cell] [--duration 10]
 *     [--warmup 2] [--quick] [--keys 10000] [--value-bytes 100] [--timeout 10]
 *     [--out bench-results]
 *
 * Cells: put at 1, 16, 64, 256 connections to the leader; linearizable get
 * on the leader and on a follower at 1 and 64; serializable get on a
 * follower at 64. `--quick`: 1 round, 3 s cells after 1 s warm-up, and only
 * put at 1, 16, 64, get on a follower at 64 and serializable get at 64.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { choiceFlag, numberFlag } from './args.js';
import type { BenchCluster } from './bench-cluster.js';
import {
  CELL_SETTING_OPTIONS,
  type CellResult,
  type CellSettings,
  type CellSpec,
  cellLine,
  cellName,
  cellSettingsFromFlags,
  type PhaseCheck,
  preloadAndSettle,
  runCell,
  SETTLE_S,
} from './cell.js';
import { DkvCluster } from './cluster.js';
import { diskPerRequest, meanDurableWriteMs } from './disk-stats.js';
import { EtcdCluster, ensureEtcdInstalled, etcdVersion } from './etcd-cluster.js';
import type { LoadResult } from './load.js';
import { type CpuPerRequest, cpuPerRequest, rssMb } from './proc-stats.js';
import { stoppedCleanly } from './processes.js';
import {
  fmtCpuPerRequest,
  fmtDiskPerRequest,
  fmtErrors,
  fmtLost,
  fmtMachine,
  fmtMs,
  fmtPerNode,
  fmtRate,
  fmtRatio,
  markdownTable,
  median,
  runStem,
  writeResults,
} from './report.js';
import { linePlotSvg } from './svg-plot.js';
import type { System } from './workload.js';

const HELP = `npm run bench:etcd -- [options]
  --rounds N          rounds, alternating which system goes first (3)
  --pairing P         system: each round runs one system's cells, then the other's (default);
                      cell: both clusters up at once, each cell on one system then the other
  --duration S        measured seconds per cell (10)
  --warmup S          warm-up seconds per cell, not measured (2)
  --settle S          before the first cell, every cell's load in turn for S s in all, on each
                      system, not measured (${SETTLE_S}; 0: none)
  --quick             1 round, 3 s cells, 5 s of settling, fewer cells: a smoke run
  --keys N            keyspace, preloaded (10000)
  --value-bytes N     value size (100)
  --timeout S         request timeout (10)
  --out DIR           result directory (bench-results)`;

const FULL_CELLS: CellSpec[] = [
  ...[1, 16, 64, 256].map((c): CellSpec => ({ op: 'put', node: 'leader', connections: c, protocol: 'http' })),
  ...[1, 64].map((c): CellSpec => ({ op: 'get', node: 'leader', connections: c, protocol: 'http' })),
  ...[1, 64].map((c): CellSpec => ({ op: 'get', node: 'follower', connections: c, protocol: 'http' })),
  { op: 'get-serializable', node: 'follower', connections: 64, protocol: 'http' },
];

const QUICK_CELLS: CellSpec[] = [
  ...[1, 16, 64].map((c): CellSpec => ({ op: 'put', node: 'leader', connections: c, protocol: 'http' })),
  { op: 'get', node: 'follower', connections: 64, protocol: 'http' },
  { op: 'get-serializable', node: 'follower', connections: 64, protocol: 'http' },
];

/** One system's run within a round. */
interface SystemRun {
  system: System;
  preloadRate: number;
  /** The lost-write checks after the preload and after the settling load (each cell has its own). */
  writeChecks: PhaseCheck[];
  /** At the end: writes acknowledged, and distinct writes that any check found lost. */
  writes: { acked: number; lostEver: number };
  cells: CellResult[];
  /** Each node's RSS right after the last cell, leader first. */
  rssAfter: { id: string; role: string; rssMb: number }[];
  serverOutput: { id: string; lines: number; tail: string[] }[];
  shutdown: Record<string, string>;
}

/** One round: both systems, in `order`. */
interface Round {
  round: number;
  order: System[];
  runs: Partial<Record<System, SystemRun>>;
}

/** One system's medians over rounds for one cell. */
interface SideSummary {
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
  genCpu: number;
  /** The three servers' CPU per request (microseconds), with its user and system parts. */
  cpu: CpuPerRequest;
  /** The servers' mean durable log write (ms), and the data disk's requests per client request. */
  disk: { durableMs: number; writes: number; flushes: number };
}

/** The medians over rounds for one cell. */
interface CellSummary {
  name: string;
  spec: CellSpec;
  dkv: SideSummary;
  etcd: SideSummary;
  /** Medians of the per-round dkv/etcd ratios. */
  ratio: { throughput: number; p50: number; p99: number; cpuPerRequest: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...CELL_SETTING_OPTIONS,
      rounds: { type: 'string' },
      pairing: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const quick = values.quick === true;
  const rounds = Math.round(numberFlag('rounds', values.rounds, quick ? 1 : 3));
  const pairing = choiceFlag('pairing', values.pairing, PAIRINGS, 'system');
  const settings = cellSettingsFromFlags(
    values,
    quick ? { durationS: 3, warmupS: 1, settleS: 5 } : { durationS: 10 },
  );
  const duration = settings.durationMs / 1000;
  const specs = quick ? QUICK_CELLS : FULL_CELLS;
  const outDir = values.out ?? 'bench-results';
  const stem = runStem('etcd');
  const startedAt = new Date().toISOString();

  ensureEtcdInstalled();
  const version = etcdVersion();
  process.stderr.write(
    `dkv vs ${version}: ${rounds} round(s), ${specs.length} cells, ${duration} s each after ${settings.warmupMs / 1000} s warm-up\n`,
  );

  const all: Round[] = [];
  for (let r = 1; r <= rounds; r++) {
    const order: System[] = r % 2 === 1 ? ['dkv', 'etcd'] : ['etcd', 'dkv'];
    const round: Round = { round: r, order, runs: {} };
    if (pairing === 'cell') {
      process.stderr.write(`round ${r}/${rounds}: ${order.join(' then ')}, cell by cell\n`);
      round.runs = await runPairedByCell(order, specs, settings);
    } else {
      for (const system of order) {
        process.stderr.write(`round ${r}/${rounds}: ${system}\n`);
        round.runs[system] = await runSystem(system, specs, settings);
      }
    }
    all.push(round);
  }

  const summaries = specs.map((spec) => summarize(spec, all));
  const table = comparisonTable(summaries);
  const cpu = cpuTable(summaries);
  const disk = diskTable(summaries);
  const rss = rssTable(all);
  const perRound = roundsTable(all);
  const notes = [...targetNotes(summaries, all), ...runNotes(all)];
  const svg = putPlot(summaries, rounds);
  const md = [
    `# dkv vs etcd ${startedAt}`,
    '',
    `${version}, three members, fsync on; dkv three nodes, default timing. ${cpus().length} CPUs, Node ${process.version}.`,
    `${rounds} round(s), ${PAIRING_TEXT[pairing]}; ${duration} s per cell after ${settings.warmupMs / 1000} s warm-up, all after ${settings.settleMs / 1000} s of every cell's load (the same for both systems), ${settings.keys} keys preloaded, ${settings.valueBytes}-byte values, HTTP/JSON for both, closed loop. Figures are medians over rounds; ratios are medians of per-round dkv/etcd ratios (throughput: higher is better for dkv; latency: lower is better).`,
    '',
    table,
    '',
    '## Server CPU per request (µs, the three servers together)',
    '',
    "Each server's CPU over a cell (warm-up included) over the cell's requests per second, summed over the three servers; user is the server's own code, sys the kernel working for it (fsync, sockets, scheduling). Medians over rounds; the ratio is the median of per-round ratios (lower is better for dkv).",
    '',
    cpu,
    '',
    '## The disk',
    '',
    "Durable write ms: the mean time of the durable log write that a write waits for, as the servers time it themselves: dkv's LMDB durable commit (`dkv_storage_fsync_duration_seconds`), etcd's WAL fsync (`etcd_disk_wal_fsync_duration_seconds`), over all three servers. Disk writes/flushes per req: the write requests and cache flushes the data disk completed (all of the machine, from /proc/diskstats) per client request. Medians over rounds.",
    '',
    disk,
    '',
    '## The write cells round by round, and the machine',
    '',
    "Each round's figures behind the medians above, for the cells of the write targets. Machine steal/idle %: the share of all CPUs' time (from /proc/stat, over the cell) that the hypervisor gave to other guests while this machine had work, and that no task wanted. Steal moves with the host's load from minute to minute: a round whose two halves ran under different steal compares the host as much as the two systems.",
    '',
    perRound,
    '',
    '## RSS after each run (MB, leader first)',
    '',
    rss,
    '',
    ...notes,
  ].join('\n');
  console.log(`\n${table}\n\n${cpu}\n\n${disk}\n\n${perRound}\n\n${rss}\n`);
  for (const n of notes) console.log(n);
  const json = JSON.stringify(
    {
      tool: 'dkv bench:etcd',
      startedAt,
      etcd: version,
      rounds,
      pairing,
      settings,
      cells: specs,
      summaries,
      runs: all,
    },
    null,
    2,
  );
  const paths = writeResults(outDir, stem, { json, md, svg });
  console.log(`\nwrote ${paths.join(', ')}`);
}

/** How the two systems' cells are paired in time within a round. */
const PAIRINGS = ['system', 'cell'] as const;
const PAIRING_TEXT: Record<(typeof PAIRINGS)[number], string> = {
  system: "each round one system's cluster, then the other's (a fresh one each)",
  cell: 'both clusters of a round up at once (the one not measured idles), each cell run on one system and at once on the other',
};

/** A system's cluster, up, preloaded and settled, and its run so far. */
interface Started {
  cluster: BenchCluster;
  run: SystemRun;
}

/** Start one system's cluster, preload its keyspace and settle it under every cell's load. */
async function startSystem(system: System, specs: CellSpec[], settings: CellSettings): Promise<Started> {
  const cluster: BenchCluster = system === 'dkv' ? await DkvCluster.start() : await EtcdCluster.start();
  const run: SystemRun = {
    system,
    preloadRate: 0,
    writeChecks: [],
    writes: { acked: 0, lostEver: 0 },
    cells: [],
    rssAfter: [],
    serverOutput: [],
    shutdown: {},
  };
  try {
    const leader = await cluster.waitForLeader();
    process.stderr.write(
      `${system}: leader ${leader.leaderId} (term ${leader.term}), followers ${cluster
        .followers()
        .map((f) => f.id)
        .join(', ')}\n`,
    );
    const prepared = await preloadAndSettle(cluster, specs, settings);
    run.preloadRate = prepared.preloadRate;
    run.writeChecks = prepared.checks;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return { cluster, run };
}

/** Run one cell on a started system and record it. */
async function runCellOn(s: Started, spec: CellSpec, settings: CellSettings): Promise<void> {
  const cell = await runCell(s.cluster, spec, settings);
  s.run.cells.push(cell);
  process.stderr.write(`${cellLine(cell)}\n`);
  await new Promise((r) => setTimeout(r, 1000));
}

/** Record each node's RSS after the last cell (leader first), then stop the cluster. */
async function finishSystem(s: Started): Promise<SystemRun> {
  try {
    await s.cluster.waitForLeader().catch(() => null);
    const ordered = [s.cluster.leader(), ...s.cluster.followers()];
    s.run.rssAfter = ordered.map((n, i) => ({
      id: n.id,
      role: i === 0 ? 'leader' : 'follower',
      rssMb: rssMb(n.pid),
    }));
  } finally {
    s.run.writes = { acked: s.cluster.writes.acked(), lostEver: s.cluster.writes.lostEver };
    s.run.serverOutput = s.cluster.serverOutput();
    s.run.shutdown = await s.cluster.stop();
  }
  return s.run;
}

/** Start one system, preload, run every cell, record RSS, stop. */
async function runSystem(system: System, specs: CellSpec[], settings: CellSettings): Promise<SystemRun> {
  const s = await startSystem(system, specs, settings);
  try {
    for (const spec of specs) await runCellOn(s, spec, settings);
  } catch (e) {
    await s.cluster.stop();
    throw e;
  }
  return finishSystem(s);
}

/**
 * Both systems' clusters up at once (started, preloaded and settled in `order`); each cell runs
 * on the first system then on the second, the other cluster idling meanwhile; RSS, then stop both.
 */
async function runPairedByCell(
  order: System[],
  specs: CellSpec[],
  settings: CellSettings,
): Promise<Partial<Record<System, SystemRun>>> {
  const started: Started[] = [];
  try {
    for (const system of order) started.push(await startSystem(system, specs, settings));
    for (const spec of specs) for (const s of started) await runCellOn(s, spec, settings);
  } catch (e) {
    // Every cluster stops, whatever one of them does; the first failure is the one reported.
    await Promise.allSettled(started.map((s) => s.cluster.stop()));
    throw e;
  }
  const finished = await Promise.allSettled(started.map((s) => finishSystem(s)));
  const runs: Partial<Record<System, SystemRun>> = {};
  for (const f of finished) {
    if (f.status === 'rejected') throw f.reason;
    runs[f.value.system] = f.value;
  }
  return runs;
}

/** The rounds in which both systems ran cell `name`, with the two results. */
function roundPairs(rounds: Round[], name: string): { round: Round; d: CellResult; e: CellResult }[] {
  return rounds.flatMap((round) => {
    const d = round.runs.dkv?.cells.find((c) => c.name === name);
    const e = round.runs.etcd?.cells.find((c) => c.name === name);
    return d && e ? [{ round, d, e }] : [];
  });
}

/** dkv/etcd ratios of one round's loads. */
function loadRatios(d: LoadResult, e: LoadResult): { throughput: number; p50: number; p99: number } {
  return {
    throughput: d.throughput / e.throughput,
    p50: d.latency.p50Ms / e.latency.p50Ms,
    p99: d.latency.p99Ms / e.latency.p99Ms,
  };
}

/** The throughput and p50 columns both comparison tables start with. */
const THROUGHPUT_P50_HEADERS = [
  'dkv req/s',
  'etcd req/s',
  'req/s dkv/etcd',
  'dkv p50 ms',
  'etcd p50 ms',
  'p50 dkv/etcd',
];

function summarize(spec: CellSpec, rounds: Round[]): CellSummary {
  const name = cellName(spec);
  const cellsOf = (system: System) =>
    rounds.map((r) => r.runs[system]?.cells.find((c) => c.name === name)).filter((c) => c !== undefined);
  const cpuOf = (c: CellResult) => cpuPerRequest(c.servers, c.load.throughput);
  const side = (system: System): SideSummary => {
    const cells = cellsOf(system);
    const errors: Record<string, number> = {};
    for (const c of cells)
      for (const [k, n] of Object.entries(c.load.errors)) errors[k] = (errors[k] ?? 0) + n;
    const cpu = cells.map(cpuOf);
    const disk = cells.map((c) => diskPerRequest(c.disk, c.load.throughput));
    return {
      throughput: median(cells.map((c) => c.load.throughput)),
      p50Ms: median(cells.map((c) => c.load.latency.p50Ms)),
      p99Ms: median(cells.map((c) => c.load.latency.p99Ms)),
      errors,
      genCpu: median(cells.map((c) => c.load.generatorCpuPercent)),
      cpu: {
        totalUs: median(cpu.map((x) => x.totalUs)),
        userUs: median(cpu.map((x) => x.userUs)),
        systemUs: median(cpu.map((x) => x.systemUs)),
      },
      disk: {
        durableMs: median(cells.map((c) => meanDurableWriteMs(c.disk))),
        writes: median(disk.map((x) => x.writes)),
        flushes: median(disk.map((x) => x.flushes)),
      },
    };
  };
  const perRound = roundPairs(rounds, name).map(({ d, e }) => ({
    ...loadRatios(d.load, e.load),
    cpu: cpuOf(d).totalUs / cpuOf(e).totalUs,
  }));
  return {
    name,
    spec,
    dkv: side('dkv'),
    etcd: side('etcd'),
    ratio: {
      throughput: median(perRound.map((r) => r.throughput)),
      p50: median(perRound.map((r) => r.p50)),
      p99: median(perRound.map((r) => r.p99)),
      cpuPerRequest: median(perRound.map((r) => r.cpu)),
    },
  };
}

function comparisonTable(summaries: CellSummary[]): string {
  return markdownTable(
    [
      'cell',
      ...THROUGHPUT_P50_HEADERS,
      'dkv p99 ms',
      'etcd p99 ms',
      'p99 dkv/etcd',
      'errors dkv',
      'errors etcd',
    ],
    summaries.map((s) => [
      s.name,
      fmtRate(s.dkv.throughput),
      fmtRate(s.etcd.throughput),
      fmtRatio(s.ratio.throughput),
      fmtMs(s.dkv.p50Ms),
      fmtMs(s.etcd.p50Ms),
      fmtRatio(s.ratio.p50),
      fmtMs(s.dkv.p99Ms),
      fmtMs(s.etcd.p99Ms),
      fmtRatio(s.ratio.p99),
      fmtErrors(s.dkv.errors),
      fmtErrors(s.etcd.errors),
    ]),
  );
}

/** Server CPU per request: what each system's three servers spend on one request, in its own code and in the kernel. */
function cpuTable(summaries: CellSummary[]): string {
  const us = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');
  return markdownTable(
    ['cell', 'dkv µs/req', 'dkv user/sys', 'etcd µs/req', 'etcd user/sys', 'µs/req dkv/etcd'],
    summaries.map((s) => [
      s.name,
      us(s.dkv.cpu.totalUs),
      fmtCpuPerRequest(s.dkv.cpu),
      us(s.etcd.cpu.totalUs),
      fmtCpuPerRequest(s.etcd.cpu),
      fmtRatio(s.ratio.cpuPerRequest),
    ]),
  );
}

/** The disk per cell: how long each system's durable log write takes in the cluster, and what it asks of the disk. */
function diskTable(summaries: CellSummary[]): string {
  return markdownTable(
    [
      'cell',
      'dkv durable write ms',
      'etcd WAL fsync ms',
      'dkv disk writes/flushes per req',
      'etcd disk writes/flushes per req',
    ],
    summaries.map((s) => [
      s.name,
      fmtMs(s.dkv.disk.durableMs),
      fmtMs(s.etcd.disk.durableMs),
      fmtDiskPerRequest(s.dkv.disk),
      fmtDiskPerRequest(s.etcd.disk),
    ]),
  );
}

/** The cells the write targets name. */
const WRITE_TARGET_CELLS = ['put c=64 leader', 'put c=1 leader'];

/** Per round, for the write targets' cells: each system's figures, their ratios and the machine's steal and idle time. */
function roundsTable(rounds: Round[]): string {
  const rows = WRITE_TARGET_CELLS.flatMap((name) =>
    roundPairs(rounds, name).map(({ round, d, e }) => {
      const ratio = loadRatios(d.load, e.load);
      return [
        name,
        String(round.round),
        round.order.join(' then '),
        fmtRate(d.load.throughput),
        fmtRate(e.load.throughput),
        fmtRatio(ratio.throughput),
        fmtMs(d.load.latency.p50Ms),
        fmtMs(e.load.latency.p50Ms),
        fmtRatio(ratio.p50),
        fmtRatio(ratio.p99),
        fmtMachine(d.machine),
        fmtMachine(e.machine),
      ];
    }),
  );
  return markdownTable(
    [
      'cell',
      'round',
      'order',
      ...THROUGHPUT_P50_HEADERS,
      'p99 dkv/etcd',
      'dkv machine steal/idle %',
      'etcd machine steal/idle %',
    ],
    rows,
  );
}

function rssTable(rounds: Round[]): string {
  const rows = rounds.map((r) => [
    String(r.round),
    r.order.join(' then '),
    fmtPerNode(r.runs.dkv?.rssAfter.map((n) => n.rssMb) ?? []),
    fmtPerNode(r.runs.etcd?.rssAfter.map((n) => n.rssMb) ?? []),
  ]);
  return markdownTable(['round', 'order', 'dkv RSS MB L/F/F', 'etcd RSS MB L/F/F'], rows);
}

/** The acceptance targets of issue 4, for the cells this run has. */
function targetNotes(summaries: CellSummary[], rounds: Round[]): string[] {
  const find = (name: string) => summaries.find((s) => s.name === name);
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const notes: string[] = ['## Targets (issue 4)', ''];
  const put64 = find('put c=64 leader');
  if (put64) {
    notes.push(
      `- put c=64: throughput dkv/etcd ${fmtRatio(put64.ratio.throughput)} (>= 1.5) and p99 dkv/etcd ${fmtRatio(put64.ratio.p99)} (<= 1): ${mark(put64.ratio.throughput >= 1.5 && put64.ratio.p99 <= 1)}`,
    );
  }
  const put1 = find('put c=1 leader');
  if (put1)
    notes.push(`- put c=1: p50 dkv/etcd ${fmtRatio(put1.ratio.p50)} (<= 1): ${mark(put1.ratio.p50 <= 1)}`);
  const getF = find('get c=64 follower');
  if (getF) {
    notes.push(
      `- linearizable get c=64 on a follower: throughput dkv/etcd ${fmtRatio(getF.ratio.throughput)} (>= 1.5): ${mark(getF.ratio.throughput >= 1.5)}`,
    );
  }
  const maxRss = Math.max(...rounds.flatMap((r) => r.runs.dkv?.rssAfter.map((n) => n.rssMb) ?? []));
  notes.push(
    `- dkv RSS per node after the run: at most ${maxRss.toFixed(0)} MB (< 250): ${mark(maxRss < 250)}`,
  );
  const dkvErrors = summaries.reduce((n, s) => n + Object.values(s.dkv.errors).reduce((a, b) => a + b, 0), 0);
  notes.push(`- dkv errors during the runs: ${dkvErrors}: ${mark(dkvErrors === 0)}`);
  const dkvWrites = writesVerdict(rounds, 'dkv');
  notes.push(
    `- acknowledged writes lost, dkv: ${fmtVerdict(dkvWrites)} (etcd: ${fmtVerdict(writesVerdict(rounds, 'etcd'))}): ${mark(dkvWrites.shown)}`,
  );
  notes.push('');
  return notes;
}

/** A run's lost-write checks: after the preload, the settling load and each cell of puts. */
function writeChecksOf(run: SystemRun | undefined): PhaseCheck[] {
  if (!run) return [];
  const cells = run.cells.flatMap((c) => (c.writeCheck ? [{ phase: c.name, check: c.writeCheck }] : []));
  return [...run.writeChecks, ...cells];
}

/** One system's lost-write checks over every round. */
interface WritesVerdict {
  /** Writes acknowledged, over every run. */
  acked: number;
  /** Distinct writes any check found lost, over every run. */
  lost: number;
  checks: number;
  failed: number;
  /** No loss, no failed check, and a check after every cell of puts, each of which acknowledged writes. */
  shown: boolean;
}

function writesVerdict(rounds: Round[], system: System): WritesVerdict {
  const runs = rounds.flatMap((r) => (r.runs[system] ? [r.runs[system]] : []));
  const checks = runs.flatMap((run) => writeChecksOf(run));
  const putCells = runs.flatMap((run) => run.cells.filter((c) => c.spec.op === 'put'));
  const v = {
    acked: runs.reduce((n, run) => n + run.writes.acked, 0),
    lost: runs.reduce((n, run) => n + run.writes.lostEver, 0),
    checks: checks.length,
    failed: checks.filter((c) => c.check.failed !== null).length,
  };
  const everyCell = putCells.every((c) => c.writeCheck !== null && c.load.completed > 0);
  return { ...v, shown: runs.length > 0 && v.failed === 0 && v.lost === 0 && everyCell };
}

function fmtVerdict(v: WritesVerdict): string {
  return `${v.lost} of ${v.acked}, over ${v.checks} read-backs${v.failed > 0 ? ` (${v.failed} failed)` : ''}`;
}

/** Leader changes, error samples, lost-write checks, server output and unclean shutdowns, per round and system. */
function runNotes(rounds: Round[]): string[] {
  const notes: string[] = ['## Notes', ''];
  const gen: Record<string, number[]> = { dkv: [], etcd: [] };
  for (const r of rounds) {
    for (const system of r.order) {
      const run = r.runs[system];
      if (!run) continue;
      const where = `round ${r.round} ${system}`;
      notes.push(`- ${where}: preload ${fmtRate(run.preloadRate)} puts/s at 64 connections`);
      const checks = writeChecksOf(run);
      notes.push(
        `- ${where}: acknowledged writes lost, as judged after each phase (every write so far): ${checks.map((c) => `${c.phase} ${fmtLost(c.check)}`).join(', ')}`,
      );
      for (const c of checks) for (const x of c.check.samples) notes.push(`- ${where} ${c.phase}: ${x}`);
      for (const c of run.cells) {
        gen[system]?.push(c.load.generatorCpuPercent);
        if (c.leaderChanged) {
          notes.push(
            `- ${where} ${c.name}: leader changed ${c.leaderBefore.leaderId}/term ${c.leaderBefore.term} -> ${c.leaderAfter ? `${c.leaderAfter.leaderId}/term ${c.leaderAfter.term}` : 'none within 10 s'}`,
          );
        }
        for (const s of c.load.errorSamples) notes.push(`- ${where} ${c.name}: error sample: ${s}`);
        if (c.load.abandoned > 0)
          notes.push(`- ${where} ${c.name}: ${c.load.abandoned} requests never answered`);
      }
      for (const o of run.serverOutput) {
        if (o.lines > 0)
          notes.push(`- ${where} node ${o.id}: ${o.lines} log lines (warn+); last: ${o.tail.at(-1) ?? ''}`);
      }
      const bad = Object.entries(run.shutdown).filter(([, how]) => !stoppedCleanly(how));
      if (bad.length > 0)
        notes.push(`- ${where} shutdown: ${bad.map(([id, how]) => `${id} ${how}`).join(', ')}`);
    }
  }
  notes.push(
    `- load generator CPU (median over cells, % of one core): dkv runs ${median(gen.dkv ?? []).toFixed(0)}%, etcd runs ${median(gen.etcd ?? []).toFixed(0)}%`,
  );
  return notes;
}

/** p99 latency against throughput of the put cells, one line per system. */
function putPlot(summaries: CellSummary[], rounds: number): string {
  const puts = summaries.filter((s) => s.spec.op === 'put' && s.spec.node === 'leader');
  const series = (system: System, color: string) => ({
    name: system,
    color,
    points: puts.map((s) => ({
      x: s[system].throughput,
      y: s[system].p99Ms,
      label: `c=${s.spec.connections}`,
    })),
  });
  return linePlotSvg([series('dkv', '#1f77b4'), series('etcd', '#d62728')], {
    title: `put: p99 latency against throughput (median of ${rounds} round${rounds === 1 ? '' : 's'})`,
    x: 'throughput (puts/s)',
    y: 'p99 latency (ms)',
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
