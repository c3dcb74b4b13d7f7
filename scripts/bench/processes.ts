/**
 * Server processes started by the benchmark: spawned with their output
 * drained into a short ring of lines (a full pipe would stall them), stopped
 * with SIGTERM then SIGKILL after a grace period, and killed with SIGKILL if
 * the benchmark itself exits or is interrupted first (their temporary
 * directories are then removed too).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** A started server process and what it printed. */
export interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines of stdout and stderr, interleaved. */
  tail: string[];
  /** How many lines it printed in all. */
  lines: number;
}

const TAIL_LINES = 40;
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

/** Kill every still-running server synchronously and remove the temporary dirs, on the way out. */
function killAll(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

/** Remove `dir` if the benchmark exits before {@link removeTempDir} is called. */
export function trackTempDir(dir: string): void {
  hookExit();
  tempDirs.add(dir);
}

/** Remove a temporary directory now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.stderr.write(`\ninterrupted (${sig}); servers killed\n`);
      process.exit(130);
    });
  }
}

/** Start `command` with `args` and `env` (added to this process's environment). */
export function startServer(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): ServerProcess {
  hookExit();
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name}: ${command}`);
  const proc: ServerProcess = { name, child, pid: child.pid, tail: [], lines: 0 };
  running.add(child);
  child.once('exit', () => running.delete(child));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      proc.lines++;
      proc.tail.push(line);
      if (proc.tail.length > TAIL_LINES) proc.tail.shift();
    });
  }
  return proc;
}

/** Whether the process is still running. */
export function isRunning(p: ServerProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/**
 * Stop a server: SIGTERM, then SIGKILL after `graceMs`. Resolves with how it
 * ended: `exit <code>`, `signal <name>`, or `killed after <graceMs> ms`.
 */
export async function stopServer(p: ServerProcess, graceMs = 10_000): Promise<string> {
  if (!isRunning(p)) return describeExit(p.child);
  const exited = new Promise<void>((res) => p.child.once('exit', () => res()));
  p.child.kill('SIGTERM');
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    p.child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  return forced ? `killed after ${graceMs} ms` : describeExit(p.child);
}

/** Whether a {@link stopServer} outcome is a clean stop: exit 0, or death by the SIGTERM sent (etcd's way). */
export function stoppedCleanly(how: string): boolean {
  return how === 'exit 0' || how === 'signal SIGTERM';
}

function describeExit(c: ChildProcess): string {
  return c.signalCode ? `signal ${c.signalCode}` : `exit ${c.exitCode}`;
}

/** A cluster node and the server process behind it. */
export interface ProcessNode {
  id: string;
  proc: ServerProcess;
}

/** Throw, naming the node and its last output lines, if any node's server has exited. */
export function assertRunning(system: string, nodes: readonly ProcessNode[]): void {
  for (const n of nodes) {
    if (!isRunning(n.proc)) throw new Error(`${system} ${n.id} exited:\n${n.proc.tail.join('\n')}`);
  }
}

/** Stop every node's server, then remove the cluster's directory; how each ended, by node id. */
export async function stopNodes(nodes: readonly ProcessNode[], dir: string): Promise<Record<string, string>> {
  const ends = await Promise.all(nodes.map((n) => stopServer(n.proc)));
  removeTempDir(dir);
  return Object.fromEntries(nodes.map((n, i) => [n.id, ends[i] ?? '']));
}

/** Wait for a just-started cluster to agree on a leader; if none comes, stop it and rethrow. */
export async function leaderOrStop<
  C extends { waitForLeader(ms: number): Promise<unknown>; stop(): Promise<unknown> },
>(cluster: C, timeoutMs: number): Promise<C> {
  try {
    await cluster.waitForLeader(timeoutMs);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
