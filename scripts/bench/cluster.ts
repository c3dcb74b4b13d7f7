/**
 * A three-node dkv cluster for the benchmark: `node --import tsx
 * src/main.ts` per node, as `npm start` runs it, with data in a temporary
 * directory, free loopback ports, direct peer connections (no proxies), the
 * default Raft timing and DKV_LOG_LEVEL=warn. Who leads comes from each
 * node's `GET /v0/cluster/status`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchNode, type LeaderInfo, LocalBenchCluster } from './bench-cluster.js';
import { freePort } from './free-port.js';
import { assertRunning, leaderOrStop, type ServerProcess, startServer, trackTempDir } from './processes.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Options for {@link DkvCluster.start}. */
export interface DkvClusterOptions {
  /** Extra DKV_* variables for every node (e.g. a different DKV_TICK_MS). */
  env?: Record<string, string>;
  /** Parent of the temporary data directory (default: the OS temp dir). */
  baseDir?: string;
}

interface DkvNode extends BenchNode {
  proc: ServerProcess;
}

/** The status fields the benchmark reads from `/v0/cluster/status`. */
interface Status {
  nodeId: string;
  role: string;
  term: string;
  leaderId: string;
}

/**
 * Extra Node.js flags for every node, from DKV_NODE_FLAGS (as `npm start` takes them), e.g.
 * `DKV_NODE_FLAGS="--cpu-prof --cpu-prof-dir=prof" npm run bench` for CPU profiles.
 */
function nodeFlags(): string[] {
  return (process.env.DKV_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
}

/** A running three-node dkv cluster on loopback. */
export class DkvCluster extends LocalBenchCluster<DkvNode> {
  readonly system = 'dkv' as const;
  readonly durableWriteMetric = 'dkv_storage_fsync_duration_seconds';
  readonly appendRoundTripMetric = 'dkv_raft_append_round_trip_seconds';
  readonly appendAnswerMetric = 'dkv_raft_append_answer_seconds';

  /** Start three nodes and wait until they agree on a leader. */
  static async start(opts: DkvClusterOptions = {}): Promise<DkvCluster> {
    const dir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'dkv-bench-'));
    trackTempDir(dir);
    const ports: { id: string; rpc: number; rest: number }[] = [];
    for (const id of ['a', 'b', 'c']) ports.push({ id, rpc: await freePort(), rest: await freePort() });
    const members = ports.map((p) => `${p.id}@127.0.0.1:${p.rpc}`).join(',');
    const nodes = ports.map((p): DkvNode => {
      const proc = startServer(
        `dkv ${p.id}`,
        process.execPath,
        [...nodeFlags(), '--import', 'tsx', join(root, 'src', 'main.ts')],
        {
          DKV_NODE_ID: p.id,
          DKV_CLUSTER: members,
          DKV_RPC_PORT: String(p.rpc),
          DKV_REST_PORT: String(p.rest),
          DKV_DB_PATH: join(dir, p.id),
          DKV_BIND_HOST: '127.0.0.1',
          DKV_LOG_LEVEL: 'warn',
          ...opts.env,
        },
        root,
      );
      return {
        id: p.id,
        pid: proc.pid,
        restUrl: `http://127.0.0.1:${p.rest}`,
        grpcAddress: `127.0.0.1:${p.rpc}`,
        proc,
      };
    });
    return leaderOrStop(new DkvCluster(nodes, dir), 60_000);
  }

  async waitForLeader(timeoutMs = 30_000): Promise<LeaderInfo> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      assertRunning('dkv', this.nodes);
      const sts = await Promise.all(this.nodes.map((n) => status(n)));
      const leaders = sts.filter((s) => s?.role === 'LEADER');
      const first = leaders[0];
      if (leaders.length === 1 && first && sts.every((s) => s && s.leaderId === first.nodeId)) {
        this.current = { leaderId: first.nodeId, term: Number(first.term) };
        return this.current;
      }
      last = JSON.stringify(sts);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dkv: no agreed leader within ${timeoutMs} ms; last statuses ${last}`);
  }
}

/** One node's status, or null if it does not answer in time. */
async function status(n: BenchNode): Promise<Status | null> {
  try {
    const res = await fetch(`${n.restUrl}/v0/cluster/status`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as Status) : null;
  } catch {
    return null;
  }
}
