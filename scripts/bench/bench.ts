/**
 * `npm run bench`: benchmark a three-node dkv cluster that this script
 * starts in temporary directories, and print a markdown table of
 * throughput, latency percentiles, errors, server CPU and RSS per node, and
 * the load generator's own CPU, and for writes whether any acknowledged one was
 * lost (the keyspace read back after the preload, the settling load and each
 * cell of puts); results go to <out>/bench-<time>.json and .md.
 *
 *   npm run bench -- [--duration 10] [--warmup 2] [--connections 1,16,64]
 *     [--ops put,get-leader,get-follower,get-serializable] [--protocol http|grpc]
 *     [--rate R] [--value-bytes 100] [--keys 10000] [--timeout 10] [--out bench-results]
 *
 * Operations: `put` (to the leader), `put-follower` (to a follower, which
 * forwards), `get-leader` and `get-follower` (linearizable gets),
 * `get-serializable` (serializable gets on a follower). The keyspace is
 * preloaded (and the nodes warmed up) before the first cell. `--rate` switches every cell to an open
 * loop at R requests per second (`--connections` then bounds the sockets).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { choiceFlag, choiceListFlag, intListFlag, optionalNumberFlag } from './args.js';
import {
  CELL_SETTING_OPTIONS,
  type CellResult,
  type CellSpec,
  cellLine,
  cellSettingsFromFlags,
  type PhaseCheck,
  preloadAndSettle,
  runCell,
  SETTLE_S,
} from './cell.js';
import { DkvCluster } from './cluster.js';
import { diskPerRequest } from './disk-stats.js';
import { cpuPerRequest } from './proc-stats.js';
import { stoppedCleanly } from './processes.js';
import {
  fmtCpuPerRequest,
  fmtDiskPerRequest,
  fmtErrors,
  fmtLost,
  fmtMachine,
  fmtMs,
  fmtMsPerNode,
  fmtPerNode,
  fmtRate,
  markdownTable,
  runStem,
  writeResults,
} from './report.js';
import type { WriteLedger } from './write-ledger.js';

const OPS = ['put', 'put-follower', 'get-leader', 'get-follower', 'get-serializable'] as const;
type BenchOp = (typeof OPS)[number];

/** What each named operation runs, and on which node. */
const OP_SPECS: Record<BenchOp, Pick<CellSpec, 'op' | 'node'>> = {
  put: { op: 'put', node: 'leader' },
  'put-follower': { op: 'put', node: 'follower' },
  'get-leader': { op: 'get', node: 'leader' },
  'get-follower': { op: 'get', node: 'follower' },
  'get-serializable': { op: 'get-serializable', node: 'follower' },
};

const HELP = `npm run bench -- [options]
  --duration S        measured seconds per cell (10)
  --warmup S          warm-up seconds per cell, not measured (2, at most 20% of --duration)
  --settle S          before the first cell, every cell's load in turn for S s in all, not measured (${SETTLE_S}; 0: none)
  --connections LIST  concurrent connections per cell (1,16,64)
  --ops LIST          ${OPS.join(',')} (put,get-leader,get-follower,get-serializable)
  --protocol P        http or grpc (http)
  --rate R            open loop at R req/s instead of a closed loop
  --value-bytes N     value size (100)
  --keys N            keyspace, preloaded for reads (10000)
  --timeout S         request timeout (10)
  --out DIR           result directory (bench-results)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...CELL_SETTING_OPTIONS,
      connections: { type: 'string' },
      ops: { type: 'string' },
      protocol: { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const settings = cellSettingsFromFlags(values, { durationS: 10 });
  const connections = intListFlag('connections', values.connections, [1, 16, 64]);
  const ops = choiceListFlag('ops', values.ops, OPS, [
    'put',
    'get-leader',
    'get-follower',
    'get-serializable',
  ]);
  const protocol = choiceFlag('protocol', values.protocol, ['http', 'grpc'] as const, 'http');
  const rate = optionalNumberFlag('rate', values.rate);
  const outDir = values.out ?? 'bench-results';
  const stem = runStem('bench');
  const startedAt = new Date().toISOString();

  process.stderr.write(`dkv bench: starting a three-node cluster\n`);
  const cluster = await DkvCluster.start();
  const cells: CellResult[] = [];
  let shutdown: Record<string, string> = {};
  let preloadRate = 0;
  let phaseChecks: PhaseCheck[] = [];
  try {
    const leader = await cluster.waitForLeader();
    process.stderr.write(
      `leader ${leader.leaderId} (term ${leader.term}), followers ${cluster
        .followers()
        .map((f) => f.id)
        .join(', ')}\n`,
    );
    const specs = ops.flatMap((name) =>
      connections.map((c): CellSpec => ({ ...OP_SPECS[name], connections: c, protocol, rate })),
    );
    // Always preloaded: reads need the keys, and it warms every node up (JIT, LMDB) before the first cell.
    const settling =
      settings.settleMs > 0 ? `, then every cell's load for ${settings.settleMs / 1000} s in all` : '';
    process.stderr.write(`preloading ${settings.keys} keys${settling}\n`);
    ({ preloadRate, checks: phaseChecks } = await preloadAndSettle(cluster, specs, settings));
    for (const spec of specs) {
      const cell = await runCell(cluster, spec, settings);
      cells.push(cell);
      process.stderr.write(`${cellLine(cell)}\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    shutdown = await cluster.stop();
  }

  const table = benchTable(cells);
  const notes = benchNotes(cells, phaseChecks, cluster.writes, cluster.serverOutput(), shutdown);
  const md = [
    `# dkv bench ${startedAt}`,
    '',
    `${cpus().length} CPUs, Node ${process.version}; ${settings.durationMs / 1000} s per cell after ${settings.warmupMs / 1000} s warm-up, all after ${settings.settleMs / 1000} s of every cell's load; ${settings.keys} keys, ${settings.valueBytes}-byte values; ${rate === undefined ? 'closed loop' : `open loop at ${rate} req/s`}.`,
    `Preload: ${fmtRate(preloadRate)} puts/s at 64 connections.`,
    '',
    table,
    '',
    ...notes,
  ].join('\n');
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(n);
  const json = JSON.stringify(
    {
      tool: 'dkv bench',
      startedAt,
      settings: { ...settings, connections, ops, protocol, rate },
      preloadRate,
      phaseChecks,
      cells,
      serverOutput: cluster.serverOutput(),
      shutdown,
    },
    null,
    2,
  );
  const paths = writeResults(outDir, stem, { json, md });
  console.log(`\nwrote ${paths.join(', ')}`);
}

/** The results table: one row per cell. */
function benchTable(cells: CellResult[]): string {
  const rows = cells.map((c) => {
    const l = c.load.latency;
    return [
      c.spec.op,
      `${c.spec.node} (${c.target})`,
      c.spec.protocol,
      String(c.spec.connections),
      c.spec.rate === undefined ? '-' : String(c.spec.rate),
      fmtRate(c.load.throughput),
      fmtMs(l.p50Ms),
      fmtMs(l.p90Ms),
      fmtMs(l.p99Ms),
      fmtMs(l.p999Ms),
      fmtMs(l.maxMs),
      fmtErrors(c.load.errors),
      c.writeCheck ? fmtLost(c.writeCheck) : '-',
      fmtPerNode(c.servers.map((s) => s.cpuPercent)),
      fmtCpuPerRequest(cpuPerRequest(c.servers, c.load.throughput)),
      fmtPerNode(c.servers.map((s) => s.rssMb)),
      fmtMsPerNode(c.disk.servers.map((d) => d.meanMs)),
      c.appendRoundTrips.length > 0 ? fmtMsPerNode(c.appendRoundTrips.map((r) => r.meanMs)) : '-',
      c.appendAnswers.length > 0 ? fmtMsPerNode(c.appendAnswers.map((r) => r.meanMs)) : '-',
      fmtDiskPerRequest(diskPerRequest(c.disk, c.load.throughput)),
      fmtMachine(c.machine),
      c.load.generatorCpuPercent.toFixed(0),
    ];
  });
  return markdownTable(
    [
      'op',
      'node',
      'proto',
      'conns',
      'rate',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'errors',
      'acked writes lost',
      'server CPU% L/F/F',
      'server CPU µs/req user/sys',
      'RSS MB L/F/F',
      'durable write ms L/F/F',
      'append round trip ms F/F',
      'append answer ms F/F',
      'disk writes/flushes per req',
      'machine steal/idle %',
      'gen CPU%',
    ],
    rows,
  );
}

/**
 * Notes under the table: the lost-write checks outside the cells, leader changes, error samples,
 * abandoned requests, lost or unexplained writes, server output, shutdown.
 */
function benchNotes(
  cells: CellResult[],
  phaseChecks: PhaseCheck[],
  writes: WriteLedger,
  output: { id: string; lines: number; tail: string[] }[],
  shutdown: Record<string, string>,
): string[] {
  const notes: string[] = [
    `- acknowledged writes lost: ${writes.lostEver} of ${writes.acked()} over the run; as judged after ${phaseChecks.map((p) => `${p.phase} ${fmtLost(p.check)}`).join(', ')}`,
  ];
  for (const p of phaseChecks) for (const x of p.check.samples) notes.push(`- ${p.phase}: ${x}`);
  for (const c of cells) {
    if (c.leaderChanged) {
      notes.push(
        `- ${c.name}: leader changed: ${c.leaderBefore.leaderId} term ${c.leaderBefore.term} -> ${c.leaderAfter ? `${c.leaderAfter.leaderId} term ${c.leaderAfter.term}` : 'no leader within 10 s'}`,
      );
    }
    for (const s of c.load.errorSamples) notes.push(`- ${c.name}: error sample: ${s}`);
    if (c.load.abandoned > 0) notes.push(`- ${c.name}: ${c.load.abandoned} requests unanswered at the end`);
    for (const x of c.writeCheck?.samples ?? []) notes.push(`- ${c.name}: ${x}`);
  }
  for (const o of output) {
    if (o.lines > 0)
      notes.push(`- node ${o.id} printed ${o.lines} log lines (warn+); last: ${o.tail.at(-1) ?? ''}`);
  }
  const bad = Object.entries(shutdown).filter(([, how]) => !stoppedCleanly(how));
  if (bad.length > 0) notes.push(`- shutdown: ${bad.map(([id, how]) => `${id} ${how}`).join(', ')}`);
  notes.push(
    "- server CPU% is % of one core over the cell (warm-up included), leader first; server CPU µs/req is the three servers together per request, user (their own code) / sys (the kernel for them: fsync, sockets, scheduling); RSS at the end of the cell; durable write ms is the mean LMDB durable commit of each server as it times it (dkv_storage_fsync_duration_seconds); append round trip ms is the mean time, as the leader times it, from an append leaving for each follower to its acknowledgement by that follower (dkv_raft_append_round_trip_seconds: both network hops, the wait of the follower for its event loop, and its durable write); append answer ms is the mean time each follower takes from reading an append to sending its acknowledgement (dkv_raft_append_answer_seconds: its wait for its event loop and its durable write), so that round trip less answer is what the network and the leader's own loop added; disk writes/flushes per req are the write requests and cache flushes of the data disk (all of the machine, from /proc/diskstats) per request; machine steal/idle % is the share of the time of all CPUs (from /proc/stat, warm-up included) that the hypervisor gave to other guests while this machine had work, and that no task wanted: steal moves with the load of the host, and a cell run under high steal is slower for reasons no server controls; gen CPU% is the load generator over the measured window; acked writes lost: of every put acknowledged so far, those whose key, read back linearizably after the cell, holds a value written by a put acknowledged before they were sent, or no value any put to it wrote (lost of acknowledged, and the keys judged).",
  );
  return notes;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
