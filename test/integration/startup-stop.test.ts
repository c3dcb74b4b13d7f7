import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../../scripts/bench/free-port.js';
import { type DkvProcess, sleep, spawnDkv, stopProcess } from './harness.js';

/** Wait until the process has printed `text`, or fail naming what it printed. */
async function waitForOutput(p: DkvProcess, text: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.output.join('').includes(text)) {
    if (p.proc.exitCode !== null)
      assert.fail(`dkv exited (${p.proc.exitCode}) before "${text}":\n${p.output.join('')}`);
    if (Date.now() > deadline) assert.fail(`no "${text}" within ${timeoutMs} ms:\n${p.output.join('')}`);
    await sleep(50);
  }
}

// A daemon told to stop before it serves (here: still joining a cluster that does not answer)
// stops cleanly at once, as it does once it serves: exit 0, its store closed.
describe('a signal while the daemon is starting', () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  const procs: DkvProcess[] = [];
  after(async () => {
    for (const p of procs) await stopProcess(p.proc, 'SIGKILL');
    for (const s of servers) s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const joiner = async (joinPort: number, env: Record<string, string> = {}): Promise<DkvProcess> => {
    const dir = mkdtempSync(join(tmpdir(), 'dkv-startup-stop-'));
    dirs.push(dir);
    const p = spawnDkv({
      DKV_NODE_ID: 'd',
      DKV_JOIN: `127.0.0.1:${joinPort}`,
      DKV_RPC_PORT: String(await freePort()),
      DKV_REST_PORT: String(await freePort()),
      DKV_DB_PATH: join(dir, 'd'),
      DKV_BIND_HOST: '127.0.0.1',
      ...env,
    });
    procs.push(p);
    return p;
  };

  test('SIGTERM while waiting to retry a join (nothing listens at DKV_JOIN): the wait ends, exit 0', async () => {
    // Shutdown must finish within 1.5 s, else the daemon exits 1; by the sixth attempt the wait
    // before the next one is 2.5-5 s, so only a stop that ends the wait exits 0.
    const p = await joiner(await freePort(), { DKV_SHUTDOWN_TIMEOUT_MS: '1500' });
    await waitForOutput(p, '"attempt":6,');
    const code = await stopProcess(p.proc, 'SIGTERM');
    const out = p.output.join('');
    assert.equal(code, 0, out);
    assert.match(out, /"msg":"stopped"/);
    assert.doesNotMatch(out, /cannot join the cluster/);
  });

  test('SIGTERM during a join attempt that never gets an answer: the attempt ends, exit 0', async () => {
    // Takes connections and never answers: the attempt would wait for its whole 60 s deadline,
    // past the 20 s the shutdown may take.
    const sockets: Socket[] = [];
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const p = await joiner(port, { DKV_REQUEST_TIMEOUT_MS: '60000', DKV_SHUTDOWN_TIMEOUT_MS: '20000' });
    await waitForOutput(p, 'joining a running cluster');
    const deadline = Date.now() + 20000;
    while (sockets.length === 0 && Date.now() < deadline) await sleep(50);
    assert.ok(sockets.length > 0, 'the join attempt never connected');
    const code = await stopProcess(p.proc, 'SIGTERM');
    for (const s of sockets) s.destroy();
    const out = p.output.join('');
    assert.equal(code, 0, out);
    assert.match(out, /"msg":"stopped"/);
    assert.doesNotMatch(out, /cannot join the cluster/);
  });
});
