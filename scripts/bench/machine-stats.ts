/**
 * What the whole machine did over a cell, from the `cpu` line of /proc/stat:
 * how much of all CPUs' time was stolen by the hypervisor (steal: the virtual
 * CPU was runnable but the host ran something else) and how much was idle.
 * On a shared virtual machine steal moves from minute to minute, and a cell
 * that ran while the host was busy is slower for reasons neither system
 * controls: the figure lets a reader tell such a cell from a real difference.
 */
import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, summed over its CPUs, in clock ticks. */
export interface MachineCpuTimes {
  /** Every state: user, nice, system, idle, iowait, irq, softirq, steal. */
  total: number;
  /** Idle, iowait included (no runnable task). */
  idle: number;
  steal: number;
}

/** The machine's CPU figures over one period, in % of all CPUs' time. */
export interface MachineStats {
  /** Time the hypervisor gave to others while a virtual CPU had work. */
  stealPercent: number;
  /** Time no task was runnable (idle and iowait). */
  idlePercent: number;
}

/** The machine-wide `cpu` line of /proc/stat text. Throws if there is none. */
export function parseProcStat(text: string): MachineCpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat has no cpu line');
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
  // counted in user (and guest_nice in nice), so it is left out of the total.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n)))
    throw new Error(`unreadable /proc/stat cpu line: ${line}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/** The figures between two readings; NaN when no time passed between them. */
export function machineDelta(from: MachineCpuTimes, to: MachineCpuTimes): MachineStats {
  const total = to.total - from.total;
  if (!(total > 0)) return { stealPercent: Number.NaN, idlePercent: Number.NaN };
  return {
    stealPercent: (100 * (to.steal - from.steal)) / total,
    idlePercent: (100 * (to.idle - from.idle)) / total,
  };
}

/** The machine's CPU times now; null where /proc/stat cannot be read (not Linux). */
export function readMachineCpu(): MachineCpuTimes | null {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** Samples the machine's CPU over a period: start(), then stop() for its figures (NaN if unknown). */
export class MachineSampler {
  private from: MachineCpuTimes | null = null;

  start(): void {
    this.from = readMachineCpu();
  }

  stop(): MachineStats {
    const to = readMachineCpu();
    if (this.from === null || to === null) return { stealPercent: Number.NaN, idlePercent: Number.NaN };
    return machineDelta(this.from, to);
  }
}
