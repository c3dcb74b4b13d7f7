/**
 * How far V8 lets the old generation grow between full GCs. After each
 * mark-compact V8 sets the next limit to the live heap times a factor it
 * picks from how cheap GC was; on a machine with memory to spare and a
 * mutator that is rarely paused, that factor is 4. A node's live heap is
 * about 25 MB, but under 15,000 reads/s some 17 MB/s gets promoted, so the
 * old generation reached 100 MB and a node's RSS 260 MB before V8 collected
 * it. With a factor of 2 it stays near 50 MB (RSS at most 192 MB in the same
 * run), at one mark-compact every second or two instead of every four or
 * five (`npm run bench`: throughput unchanged within the noise).
 *
 * V8 reads the flag each time it sets a limit, so setting it at start-up,
 * before the first full GC, works from inside the process: every launcher
 * (npm start, bin/dkv, the Dockerfile, the benchmarks) gets it.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to (1 + this/100) times the live heap after a full GC. */
export const HEAP_GROWING_PERCENT = 100;

const FLAG = '--heap-growing-percent';

/** The V8 flag to set, or null when the command line already chose one (an operator's choice wins). */
export function heapGrowthFlag(execArgv: readonly string[]): string | null {
  const chosen = execArgv.some(
    (a) => a === FLAG || a.startsWith(`${FLAG}=`) || a.startsWith('--heap_growing_percent'),
  );
  return chosen ? null : `${FLAG}=${HEAP_GROWING_PERCENT}`;
}

/** Bound the old generation's growth for this process (call once, early in start-up). */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  const flag = heapGrowthFlag(execArgv);
  if (flag !== null) setFlagsFromString(flag);
}
