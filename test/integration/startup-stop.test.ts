import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../scripts/bench/free-port.js';
import { ClusterServiceService } from '../../src/gen/dkv/v0/cluster.js';
import { type DkvProcess, sleep, spawnDkv, stopProcess } from './harness.js';

/** Poll `check` until it holds, or fail with what `why` says. */
async function until(check: () => boolean, why: () => string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${why()} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Wait until the process has printed `text`, or fail naming what it printed. */
async function waitForOutput(p: DkvProcess, text: string): Promise<void> {
  await until(
    () => {
      if (p.proc.exitCode !== null)
        assert.fail(`dkv exited (${p.proc.exitCode}) before "${text}":\n${p.output.join('')}`);
      return p.output.join('').includes(text);
    },
    () => `no "${text}":\n${p.output.join('')}`,
  );
}

/** SIGTERM a daemon that is still joining: it must stop cleanly (exit 0), not fail its join. */
async function assertStopsCleanly(p: DkvProcess): Promise<void> {
  const code = await stopProcess(p.proc, 'SIGTERM');
  const out = p.output.join('');
  assert.equal(code, 0, out);
  assert.match(out, /"msg":"stopped"/);
  assert.doesNotMatch(out, /cannot join the cluster/);
}

/** Listen on a free loopback port; the port. */
async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

// A daemon told to stop before it serves (here: still joining a cluster that does not answer)
// stops cleanly at once, as it does once it serves: exit 0, its store closed.
describe('a signal while the daemon is starting', () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  const grpcServers: grpc.Server[] = [];
  const procs: DkvProcess[] = [];
  after(async () => {
    for (const p of procs) await stopProcess(p.proc, 'SIGKILL');
    for (const s of servers) s.close();
    for (const s of grpcServers) s.forceShutdown();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A daemon with its own data dir; `env` gives its id and ports or overrides them. */
  const daemon = (env: Record<string, string>): DkvProcess => {
    const dir = mkdtempSync(join(tmpdir(), 'dkv-startup-stop-'));
    dirs.push(dir);
    const p = spawnDkv({ DKV_DB_PATH: join(dir, 'node'), DKV_BIND_HOST: '127.0.0.1', ...env });
    procs.push(p);
    return p;
  };

  const joiner = async (joinPort: number, env: Record<string, string> = {}): Promise<DkvProcess> =>
    daemon({
      DKV_NODE_ID: 'd',
      DKV_JOIN: `127.0.0.1:${joinPort}`,
      DKV_RPC_PORT: String(await freePort()),
      DKV_REST_PORT: String(await freePort()),
      ...env,
    });

  test('a taken port: the daemon names it and its variable, and exits 1', async () => {
    const taken = createServer();
    servers.push(taken);
    const takenPort = await listenLocal(taken);
    for (const which of ['rest', 'rpc'] as const) {
      const rpc = which === 'rpc' ? takenPort : await freePort();
      const p = daemon({
        DKV_NODE_ID: 'a',
        DKV_CLUSTER: `a@127.0.0.1:${rpc}`,
        DKV_RPC_PORT: String(rpc),
        DKV_REST_PORT: String(which === 'rest' ? takenPort : await freePort()),
      });
      const code = await new Promise<number | null>((resolve) => p.proc.once('exit', (c) => resolve(c)));
      const out = p.output.join('');
      assert.equal(code, 1, out);
      const variable = which === 'rest' ? 'DKV_REST_PORT' : 'DKV_RPC_PORT';
      assert.match(
        out,
        new RegExp(
          `dkv: cannot listen for ${which === 'rest' ? 'REST' : 'gRPC'} on 127\\.0\\.0\\.1:${takenPort} \\(${variable}\\)`,
        ),
      );
    }
  });

  test('SIGTERM while waiting to retry a join (nothing listens at DKV_JOIN): the wait ends, exit 0', async () => {
    // Shutdown must finish within 1.5 s, else the daemon exits 1; by the sixth attempt the wait
    // before the next one is 2.5-5 s, so only a stop that ends the wait exits 0.
    const p = await joiner(await freePort(), { DKV_SHUTDOWN_TIMEOUT_MS: '1500' });
    await waitForOutput(p, '"attempt":6,');
    await assertStopsCleanly(p);
  });

  test('SIGTERM during a join attempt a member has taken and never answers: the call is cancelled, exit 0', async () => {
    // A real gRPC server whose MemberAdd never replies (a member without quorum can take as long
    // as the deadline): the call is on the wire, past what closing a channel cancels.
    let calls = 0;
    const server = new grpc.Server();
    grpcServers.push(server);
    server.addService(ClusterServiceService, {
      memberAdd: () => {
        calls++;
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const p = await joiner(port, { DKV_REQUEST_TIMEOUT_MS: '60000', DKV_SHUTDOWN_TIMEOUT_MS: '20000' });
    await until(
      () => calls > 0,
      () => 'the join attempt never reached the server',
    );
    assert.equal(calls, 1);
    await assertStopsCleanly(p);
  });

  test('SIGTERM during a join attempt whose connection never completes: the attempt ends, exit 0', async () => {
    // Takes connections and never answers: the attempt would wait for its whole 60 s deadline,
    // past the 20 s the shutdown may take.
    const sockets: Socket[] = [];
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    servers.push(silent);
    const port = await listenLocal(silent);
    const p = await joiner(port, { DKV_REQUEST_TIMEOUT_MS: '60000', DKV_SHUTDOWN_TIMEOUT_MS: '20000' });
    await waitForOutput(p, 'joining a running cluster');
    await until(
      () => sockets.length > 0,
      () => 'the join attempt never connected',
    );
    await assertStopsCleanly(p);
    for (const s of sockets) s.destroy();
  });
});
