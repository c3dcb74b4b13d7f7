import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/bench/free-port.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * A TCP proxy for one directed peer link (node i's connections to node j).
 * Cutting it destroys its open connections and refuses new ones: node i's
 * messages to j are lost, as in a network partition.
 */
export class LinkProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  cut = false;

  constructor(
    readonly port: number,
    readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((res) => this.server!.listen(this.port, '127.0.0.1', () => res()));
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.setCut(true);
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}

/** One dkv process of a test cluster. */
export interface TestNode {
  id: string;
  rpcPort: number;
  restPort: number;
  dbPath: string;
  env: Record<string, string>;
  proc: ChildProcess | null;
  output: string[];
}

/** Options for a test cluster; timing is shortened so elections take well under a second. */
export interface ClusterOptions {
  size?: number;
  env?: Record<string, string>;
}

/** The answer of a REST call: status and parsed JSON body. */
export interface RestReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Real dkv daemons on loopback with temporary data directories, driven over
 * REST; peers reach each other through LinkProxy so a test can cut links.
 */
export class TestCluster {
  readonly nodes: TestNode[] = [];
  /** proxies.get(`${from}>${to}`) carries from's connections to `to`. */
  readonly proxies = new Map<string, LinkProxy>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'dkv-it-'));

  /** Start the nodes and wait until each serves its API (a leader may not be elected yet). */
  static async start(opts: ClusterOptions = {}): Promise<TestCluster> {
    const c = new TestCluster();
    await c.init(opts);
    await c.waitForAllUp();
    return c;
  }

  /** A node record with fresh ports and its data directory under the cluster's, not started. */
  private async newNode(id: string): Promise<TestNode> {
    return {
      id,
      rpcPort: await freePort(),
      restPort: await freePort(),
      dbPath: join(this.dir, id),
      env: {},
      proc: null,
      output: [],
    };
  }

  private async init(opts: ClusterOptions): Promise<void> {
    const size = opts.size ?? 3;
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
    for (const id of ids) this.nodes.push(await this.newNode(id));
    for (const from of this.nodes) {
      for (const to of this.nodes) {
        if (from === to) continue;
        const p = new LinkProxy(await freePort(), to.rpcPort);
        await p.start();
        this.proxies.set(`${from.id}>${to.id}`, p);
      }
    }
    for (const n of this.nodes) {
      // Each node sees its peers through its own proxies.
      const cluster = this.nodes
        .map((m) => `${m.id}@127.0.0.1:${m === n ? m.rpcPort : this.proxies.get(`${n.id}>${m.id}`)!.port}`)
        .join(',');
      n.env = {
        DKV_NODE_ID: n.id,
        DKV_CLUSTER: cluster,
        DKV_CLUSTER_ID: 'dkv-test',
        DKV_RPC_PORT: String(n.rpcPort),
        DKV_REST_PORT: String(n.restPort),
        DKV_DB_PATH: n.dbPath,
        DKV_BIND_HOST: '127.0.0.1',
        DKV_LOG_LEVEL: 'warn',
        DKV_TICK_MS: '50',
        DKV_ELECTION_TICKS: '10',
        DKV_HEARTBEAT_TICKS: '2',
        DKV_REQUEST_TIMEOUT_MS: '2000',
        ...opts.env,
      };
    }
    for (const n of this.nodes) this.spawn(n);
  }

  /** Start (or restart) a node's process. */
  spawn(n: TestNode): void {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts')], {
      cwd: root,
      env: { ...process.env, ...n.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    n.output = [];
    const keep = (d: Buffer) => {
      n.output.push(d.toString());
      if (n.output.length > 200) n.output.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    n.proc = proc;
  }

  /**
   * Start a new node that joins the running cluster with only DKV_JOIN (pointing at `via`'s
   * gRPC port): no DKV_CLUSTER, no cluster id; its peers reach it directly on its own port.
   */
  async addJoiner(id: string, via: TestNode, env: Record<string, string> = {}): Promise<TestNode> {
    const n = await this.addJoinerLater(id, via, env);
    this.spawn(n);
    return n;
  }

  /** Prepare a joining node (as addJoiner) without starting it: call spawn(n) when ready. */
  async addJoinerLater(
    id: string,
    via: TestNode = this.nodes[0]!,
    env: Record<string, string> = {},
  ): Promise<TestNode> {
    const n = await this.newNode(id);
    // The founders' timing, without their membership or cluster id.
    const { DKV_CLUSTER: _c, DKV_CLUSTER_ID: _i, DKV_NODE_ID: _n, ...shared } = this.nodes[0]!.env;
    n.env = {
      ...shared,
      DKV_NODE_ID: id,
      DKV_JOIN: `127.0.0.1:${via.rpcPort}`,
      DKV_RPC_PORT: String(n.rpcPort),
      DKV_REST_PORT: String(n.restPort),
      DKV_DB_PATH: n.dbPath,
      ...env,
    };
    this.nodes.push(n);
    return n;
  }

  /** Wait for a node's process to exit on its own (e.g. after the Shutdown RPC); its exit code. */
  async exited(n: TestNode, timeoutMs = 15000): Promise<number | null> {
    const p = n.proc;
    if (!p) throw new Error(`node ${n.id} is not running`);
    const code =
      p.exitCode !== null
        ? p.exitCode
        : await new Promise<number | null>((res, rej) => {
            const timer = setTimeout(
              () => rej(new Error(`node ${n.id} did not exit within ${timeoutMs} ms\n${this.describe()}`)),
              timeoutMs,
            );
            p.once('exit', (c) => {
              clearTimeout(timer);
              res(c);
            });
          });
    n.proc = null;
    return code;
  }

  node(id: string): TestNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Send a signal and, for SIGKILL/SIGTERM, wait for the process to exit. */
  async kill(n: TestNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((res) => p.once('exit', (code) => res(code)));
    p.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return null;
    const code = await exited;
    n.proc = null;
    return code;
  }

  /** Cut (or heal) every link between `id` and the other nodes, both directions. */
  isolate(id: string, cut = true): void {
    for (const [key, p] of this.proxies) {
      const [from, to] = key.split('>');
      if (from === id || to === id) p.setCut(cut);
    }
  }

  async rest(
    n: TestNode,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 10000,
  ): Promise<RestReply> {
    const res = await fetch(`http://127.0.0.1:${n.restPort}${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((e: Error) => {
      // Say which node, and whether its process is still there, with its last output.
      const state = n.proc ? `pid ${n.proc.pid}, exit code ${n.proc.exitCode}` : 'not running';
      throw new Error(
        `${method} ${path} on node ${n.id} (${state}) failed: ${e.message} ${String(e.cause ?? '')}\n` +
          n.output.join('').slice(-2000),
      );
    });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed };
  }

  /** Put a UTF-8 key/value through node n. */
  put(n: TestNode, key: string, value: string): Promise<RestReply> {
    return this.rest(n, 'POST', '/v0/kv', { key: b64(key), value: b64(value) });
  }

  /** Get a UTF-8 key through node n; value is undefined when absent (404). */
  async get(
    n: TestNode,
    key: string,
    consistency = 'LINEARIZABLE',
  ): Promise<{ status: number; value?: string }> {
    const r = await this.rest(n, 'GET', `/v0/kv/key/${b64url(key)}?consistency=${consistency}`);
    return {
      status: r.status,
      value: r.status === 200 ? Buffer.from(String(r.body.value), 'base64').toString() : undefined,
    };
  }

  async status(n: TestNode): Promise<Record<string, unknown> | null> {
    try {
      const r = await this.rest(n, 'GET', '/v0/cluster/status', undefined, 2000);
      return r.status === 200 ? r.body : null;
    } catch {
      return null;
    }
  }

  /**
   * Wait until every running node answers its status (all servers up): on a loaded machine a
   * leader may be elected by a majority before the last node listens.
   */
  async waitForAllUp(timeoutMs = 30000): Promise<void> {
    await this.until(
      'every node to answer',
      async () =>
        (await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.status(n)))).every(Boolean),
      timeoutMs,
    );
  }

  /** Wait until the running nodes among `among` agree on one leader; returns it. */
  async waitForLeader(among: TestNode[] = this.nodes, timeoutMs = 20000): Promise<TestNode> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const sts = await Promise.all(among.map((n) => (n.proc ? this.status(n) : Promise.resolve(null))));
      const leaders = sts.filter((s) => s?.role === 'LEADER').map((s) => String(s!.nodeId));
      const agreed = sts.every((s) => s === null || s.leaderId === leaders[0]);
      if (leaders.length === 1 && agreed) return this.node(leaders[0]!);
      await sleep(100);
    }
    throw new Error(`no leader within ${timeoutMs} ms:\n${this.describe()}`);
  }

  /** Every node's recent output, for failure messages. */
  describe(): string {
    return this.nodes
      .map((n) => `--- ${n.id} (pid ${n.proc?.pid ?? '-'})\n${n.output.join('').slice(-3000)}`)
      .join('\n');
  }

  /** Wait for a condition, polling; throws with `what` on timeout. */
  async until(what: string, cond: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await cond().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}\n${this.describe()}`);
  }

  /** Stop every process and proxy and delete the data. */
  async stop(): Promise<void> {
    for (const n of this.nodes) {
      if (n.proc) {
        n.proc.kill('SIGCONT');
        await this.kill(n, 'SIGKILL');
      }
    }
    for (const p of this.proxies.values()) await p.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Standard base64 of a UTF-8 string. */
export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/** URL-safe base64 of a UTF-8 string, for path segments. */
export function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A dkv process started by spawnDkv, with its recent output kept for failure messages. */
export interface DkvProcess {
  proc: ChildProcess;
  output: string[];
}

/**
 * Start a dkv daemon the way an operator does (`node bin/dkv.js`, or the
 * node arguments given) with exactly `env` as its DKV_* configuration: DKV_*
 * variables of the test runner's own environment are not passed on.
 */
export function spawnDkv(
  env: Record<string, string>,
  nodeArgs: string[] = [join(root, 'bin', 'dkv.js')],
): DkvProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DKV_')));
  const proc = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (output.length > 200) output.shift();
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return { proc, output };
}

/** Send `signal` to a process unless it has exited, and resolve with its exit code (null: killed by a signal). */
export function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  proc.kill(signal);
  return exited;
}
