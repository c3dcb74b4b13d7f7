/**
 * `npm run sim -- --seeds N [--start S] [--workers W] [--trace]`: run the deterministic
 * cluster simulator over seeds S..S+N-1 on W worker processes and print a
 * final figure line. Any violation prints its seed and the command that
 * replays it, and the exit code is 1. `--trace` runs the seeds in this
 * process and prints every event of each history (use it with one seed).
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { optionsForSeed, runSimulation, type SimResult } from '../test/sim/simulation.js';

// A worker process is this script with `--worker seed,seed,...`: it reports each result to the parent.
if (process.argv[2] === '--worker') {
  for (const seed of (process.argv[3] ?? '').split(',').map(Number)) {
    await new Promise<void>((resolve) => process.send!(runSimulation(seed), () => resolve()));
  }
  process.disconnect();
} else {
  await main();
}

function parseArgs(argv: string[]): { seeds: number; start: number; workers: number; trace: boolean } {
  const out = { seeds: 100, start: 1, workers: Math.max(1, availableParallelism()), trace: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--trace') {
      out.trace = true;
      continue;
    }
    const value = Number(argv[i + 1]);
    if (flag === '--seeds' || flag === '--start' || flag === '--workers') {
      if (!Number.isInteger(value) || value < (flag === '--start' ? 0 : 1)) {
        console.error(
          `sim: ${flag} needs a whole number${flag === '--start' ? '' : ' >= 1'}, got ${argv[i + 1]}`,
        );
        process.exit(2);
      }
      out[flag.slice(2) as 'seeds' | 'start' | 'workers'] = value;
      i++;
    } else {
      console.error(
        `sim: unknown argument ${flag}; usage: npm run sim -- --seeds N [--start S] [--workers W]`,
      );
      process.exit(2);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { seeds, start, workers, trace } = parseArgs(process.argv.slice(2));
  if (trace) {
    let failed = 0;
    for (let seed = start; seed < start + seeds; seed++) {
      const r = runSimulation(seed, { ...optionsForSeed(seed), trace: (line) => console.log(line) });
      console.log(`seed ${seed}: ${r.violations.length === 0 ? 'no violations' : r.violations.join('\n')}`);
      if (r.violations.length > 0) failed++;
    }
    process.exitCode = failed > 0 ? 1 : 0;
    return;
  }
  const all = Array.from({ length: seeds }, (_, i) => start + i);
  const n = Math.min(workers, seeds);
  const t0 = performance.now();
  const totals = {
    seeds: 0,
    ticks: 0,
    clientOps: 0,
    acknowledgedWrites: 0,
    faults: 0,
    elections: 0,
    snapshots: 0,
  };
  const faultsByKind: Record<string, number> = {};
  const failures: SimResult[] = [];
  let lastPrint = 0;

  await Promise.all(
    Array.from({ length: n }, (_, w) => {
      const mine = all.filter((_, i) => i % n === w);
      const worker = fork(fileURLToPath(import.meta.url), ['--worker', mine.join(',')], {
        execArgv: ['--import', 'tsx'],
      });
      worker.on('message', (r: SimResult) => {
        totals.seeds++;
        totals.ticks += r.ticks;
        totals.clientOps += r.clientOps;
        totals.acknowledgedWrites += r.acknowledgedWrites;
        totals.faults += r.faults;
        totals.elections += r.elections;
        totals.snapshots += r.snapshotsSent;
        for (const [k, v] of Object.entries(r.faultsByKind)) faultsByKind[k] = (faultsByKind[k] ?? 0) + v;
        if (r.violations.length > 0) {
          failures.push(r);
          console.log(
            `\nseed ${r.seed}: ${r.violations.length} violation(s)\n  ${r.violations.join('\n  ')}`,
          );
          console.log(`  replay: npm run sim -- --seeds 1 --start ${r.seed}`);
        }
        const now = performance.now();
        if (process.stderr.isTTY && now - lastPrint > 200) {
          lastPrint = now;
          process.stderr.write(`\r${totals.seeds}/${seeds} seeds, ${failures.length} failing`);
        }
      });
      return new Promise<void>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)),
        );
      });
    }),
  );
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const secs = (performance.now() - t0) / 1000;
  const kinds = Object.entries(faultsByKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`faults by kind: ${kinds}`);
  console.log(
    `seeds ${totals.seeds} (from ${start}) | simulated ticks ${totals.ticks} | client operations ${totals.clientOps} ` +
      `(acknowledged writes ${totals.acknowledgedWrites}) | faults injected ${totals.faults} | elections ${totals.elections} ` +
      `| snapshots sent ${totals.snapshots} | violations ${failures.length} | ${secs.toFixed(1)} s on ${n} worker(s)`,
  );
  process.exitCode = failures.length > 0 ? 1 : 0;
}
