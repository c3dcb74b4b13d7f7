/**
 * CPU and memory of server processes from /proc (Linux): CPU time is
 * utime + stime of /proc/<pid>/stat (clock ticks), memory is VmRSS of
 * /proc/<pid>/status. A sampler reads RSS periodically during a run and
 * reports, per process, CPU in % of one core over the run, RSS at its end
 * and the peak RSS seen.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One process to watch. */
export interface WatchedProcess {
  id: string;
  pid: number;
}

/** A process's figures over one sampled period. */
export interface ProcessStats {
  id: string;
  /** CPU used over the period, in % of one core (200 = two cores busy). */
  cpuPercent: number;
  /** Resident memory at the end of the period (MB). */
  rssMb: number;
  /** The highest resident memory sampled (MB). */
  peakRssMb: number;
}

let ticksPerSecond: number | null = null;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, usually 100). */
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) used so far by `pid`; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start at 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of `pid` in MB; NaN if it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples a set of processes from start() to stop(). */
export class ProcSampler {
  private readonly startCpu = new Map<number, number>();
  private readonly peak = new Map<number, number>();
  private startWall = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly procs: WatchedProcess[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.startWall = performance.now();
    for (const p of this.procs) {
      this.startCpu.set(p.pid, cpuSeconds(p.pid));
      this.peak.set(p.pid, rssMb(p.pid));
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): ProcessStats[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const wall = (performance.now() - this.startWall) / 1000;
    return this.procs.map((p) => ({
      id: p.id,
      cpuPercent: wall > 0 ? ((cpuSeconds(p.pid) - (this.startCpu.get(p.pid) ?? 0)) / wall) * 100 : 0,
      rssMb: rssMb(p.pid),
      peakRssMb: this.peak.get(p.pid) ?? Number.NaN,
    }));
  }

  private sample(): void {
    for (const p of this.procs) {
      const rss = rssMb(p.pid);
      const prev = this.peak.get(p.pid);
      if (!Number.isNaN(rss) && (prev === undefined || Number.isNaN(prev) || rss > prev)) {
        this.peak.set(p.pid, rss);
      }
    }
  }
}
