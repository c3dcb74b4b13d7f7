/**
 * CPU and memory of server processes from /proc (Linux): CPU time is
 * utime (user) and stime (system, the kernel working for the process:
 * syscalls, fsync, sockets) of /proc/<pid>/stat in clock ticks, memory is
 * VmRSS of /proc/<pid>/status. A sampler reads RSS periodically during a run
 * and reports, per process, CPU in % of one core over the run (with its user
 * and system parts), RSS at its end and the peak RSS seen.
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
  /** CPU used over the period, in % of one core (200 = two cores busy): user + system. */
  cpuPercent: number;
  /** The part of cpuPercent spent in the process's own code. */
  userPercent: number;
  /** The part of cpuPercent the kernel spent for the process. */
  systemPercent: number;
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

/** CPU seconds used so far by a process, in its own code and in the kernel. */
export interface CpuTimes {
  user: number;
  system: number;
}

/** CPU seconds used so far by `pid`; NaN for both if it is gone. */
export function cpuTimes(pid: number): CpuTimes {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start at 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

/** CPU per request: what a set of processes used, over the requests they served. */
export interface CpuPerRequest {
  /** Microseconds of CPU per request, user + system, all processes together. */
  totalUs: number;
  userUs: number;
  systemUs: number;
}

/**
 * CPU microseconds per request of `servers` (all of them together) at `throughput` requests per
 * second: their CPU rate over the request rate. Comparable between systems whose throughput
 * differs, where CPU% is not. NaN when nothing was served.
 */
export function cpuPerRequest(servers: ProcessStats[], throughput: number): CpuPerRequest {
  if (!(throughput > 0)) return { totalUs: Number.NaN, userUs: Number.NaN, systemUs: Number.NaN };
  // % of one core is 10^4 microseconds of CPU per second.
  const perRequest = (percent: number) => (percent * 1e4) / throughput;
  const userUs = perRequest(servers.reduce((sum, s) => sum + s.userPercent, 0));
  const systemUs = perRequest(servers.reduce((sum, s) => sum + s.systemPercent, 0));
  return { totalUs: userUs + systemUs, userUs, systemUs };
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
  private readonly startCpu = new Map<number, CpuTimes>();
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
      this.startCpu.set(p.pid, cpuTimes(p.pid));
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
    const percent = (seconds: number) => (wall > 0 ? (seconds / wall) * 100 : 0);
    return this.procs.map((p) => {
      const start = this.startCpu.get(p.pid) ?? { user: 0, system: 0 };
      const end = cpuTimes(p.pid);
      const userPercent = percent(end.user - start.user);
      const systemPercent = percent(end.system - start.system);
      return {
        id: p.id,
        cpuPercent: userPercent + systemPercent,
        userPercent,
        systemPercent,
        rssMb: rssMb(p.pid),
        peakRssMb: this.peak.get(p.pid) ?? Number.NaN,
      };
    });
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
