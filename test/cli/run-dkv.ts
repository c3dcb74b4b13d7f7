/**
 * Runs the real `bin/dkv.js` as a child process, as a user would, and
 * collects its exit code, stdout and stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from '../integration/harness.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The path of the `dkv` binary under test. */
export const DKV_BIN = join(root, 'bin', 'dkv.js');

/** What a `dkv` run produced. */
export interface DkvRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary directory for a test file's scratch files (history, load files). */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'dkv-cli-'));
}

/**
 * Run `dkv ARGS...` with `input` piped to stdin. The environment drops any
 * DKV_* of the caller and keeps the history out of the real home directory.
 */
export function dkv(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<DkvRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DKV_') && v !== undefined) env[k] = v;
  Object.assign(env, { DKV_HISTORY_FILE: join(tmpdir(), 'dkv-cli-test-history') }, opts.env);
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [DKV_BIN, ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(
        new Error(
          `dkv ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 60000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60000);
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** The `--endpoints` value naming the gRPC ports of these nodes of the cluster, in order. */
export function endpointsOf(c: TestCluster, ids: string[] = c.nodes.map((n) => n.id)): string {
  return ids.map((id) => `127.0.0.1:${c.node(id).rpcPort}`).join(',');
}

/** A failure message showing everything a run printed. */
export function show(r: DkvRun): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
