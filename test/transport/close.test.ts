/**
 * close(): once every transport is closed and the servers stopped, nothing
 * keeps the process alive — it exits by itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

test('after close() the process exits by itself (no open sockets or timers)', async () => {
  const fixture = new URL('./fixtures/close-then-exit.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let closingAt = 0;
  let closedAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (closingAt === 0 && stdout.includes('closing')) closingAt = performance.now();
    if (closedAt === 0 && stdout.includes('closed')) closedAt = performance.now();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 8_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  const exitedAt = performance.now();
  assert.equal(signal, null, `the process had to be killed; stdout: ${stdout} stderr: ${stderr}`);
  assert.equal(code, 0, stderr);
  assert.ok(closedAt > 0, `the fixture reached the end: ${stdout} ${stderr}`);
  // close() ends each stream (a peer that never answers gets 1 s of grace, then a cancel), so
  // the servers' graceful shutdown finishes promptly and the process exits right after.
  assert.ok(
    exitedAt - closingAt < 3_000,
    `exited ${Math.round(exitedAt - closingAt)} ms after close() began`,
  );
  assert.ok(
    exitedAt - closedAt < 1_000,
    `exited ${Math.round(exitedAt - closedAt)} ms after everything closed`,
  );
});
