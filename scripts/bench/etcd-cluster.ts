/**
 * A three-member etcd cluster for the benchmark, the reference dkv is
 * measured against: Debian's etcd 3.4 (`etcd-server`, installed with apt-get
 * when /usr/bin/etcd is missing), members on free loopback ports with data
 * in a temporary directory, a static `--initial-cluster`, and fsync on (the
 * default: no `--unsafe-no-fsync`). Health comes from `GET /health`, the
 * leader from `POST /v3/maintenance/status` on each member.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchNode, type LeaderInfo, LocalBenchCluster } from './bench-cluster.js';
import { freePort } from './free-port.js';
import { assertRunning, leaderOrStop, type ServerProcess, startServer, trackTempDir } from './processes.js';

/** Where Debian's etcd-server puts the daemon. */
export const ETCD_BINARY = '/usr/bin/etcd';

/**
 * Install etcd-server with apt-get if {@link ETCD_BINARY} is missing; if the
 * install fails, run `apt-get update` and try once more. apt's output goes
 * to stderr. Throws if etcd is still missing.
 */
export function ensureEtcdInstalled(): void {
  if (existsSync(ETCD_BINARY)) return;
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  process.stderr.write(`${ETCD_BINARY} is missing: apt-get install -y etcd-server\n`);
  if (!apt(['install', '-y', 'etcd-server'])) {
    apt(['update']);
    apt(['install', '-y', 'etcd-server']);
  }
  if (!existsSync(ETCD_BINARY)) throw new Error(`could not install etcd-server (${ETCD_BINARY} missing)`);
}

/** etcd's version line, e.g. `etcd Version: 3.4.23`. */
export function etcdVersion(): string {
  const out = spawnSync(ETCD_BINARY, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n')[0]?.trim() ?? '';
}

interface EtcdMember extends BenchNode {
  proc: ServerProcess;
}

/** The fields read from `/v3/maintenance/status` (64-bit numbers are strings in JSON). */
interface MaintenanceStatus {
  header?: { member_id?: string };
  leader?: string;
  raftTerm?: string;
}

/** A running three-member etcd cluster on loopback. */
export class EtcdCluster extends LocalBenchCluster<EtcdMember> {
  readonly system = 'etcd' as const;
  readonly durableWriteMetric = 'etcd_disk_wal_fsync_duration_seconds';

  /** Install etcd if needed, start three members and wait for health and one leader. */
  static async start(baseDir?: string): Promise<EtcdCluster> {
    ensureEtcdInstalled();
    const dir = mkdtempSync(join(baseDir ?? tmpdir(), 'etcd-bench-'));
    trackTempDir(dir);
    const ports: { id: string; client: number; peer: number }[] = [];
    for (const id of ['e1', 'e2', 'e3']) ports.push({ id, client: await freePort(), peer: await freePort() });
    const initialCluster = ports.map((p) => `${p.id}=http://127.0.0.1:${p.peer}`).join(',');
    const members = ports.map((p): EtcdMember => {
      const dataDir = join(dir, p.id);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const client = `http://127.0.0.1:${p.client}`;
      const peer = `http://127.0.0.1:${p.peer}`;
      const proc = startServer(
        `etcd ${p.id}`,
        ETCD_BINARY,
        [
          `--name=${p.id}`,
          `--data-dir=${dataDir}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=${initialCluster}`,
          '--initial-cluster-state=new',
          '--initial-cluster-token=dkv-bench',
          '--logger=zap',
          '--log-level=warn',
        ],
        {},
      );
      return { id: p.id, pid: proc.pid, restUrl: client, grpcAddress: null, proc };
    });
    return leaderOrStop(new EtcdCluster(members, dir), 60_000);
  }

  async waitForLeader(timeoutMs = 30_000): Promise<LeaderInfo> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      assertRunning('etcd', this.nodes);
      const healthy = await Promise.all(this.nodes.map((n) => health(n)));
      const sts = await Promise.all(this.nodes.map((n) => maintenanceStatus(n)));
      const leaderId = sts[0]?.leader;
      const leaderIndex = sts.findIndex((s) => s?.header?.member_id === leaderId);
      const leader = this.nodes[leaderIndex];
      if (
        healthy.every(Boolean) &&
        leaderId &&
        leaderId !== '0' &&
        leader &&
        sts.every((s) => s?.leader === leaderId)
      ) {
        this.current = { leaderId: leader.id, term: Number(sts[leaderIndex]?.raftTerm ?? 0) };
        return this.current;
      }
      last = JSON.stringify({ healthy, sts });
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd: no healthy cluster with one leader within ${timeoutMs} ms; last ${last}`);
  }
}

async function health(n: BenchNode): Promise<boolean> {
  try {
    const res = await fetch(`${n.restUrl}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

async function maintenanceStatus(n: BenchNode): Promise<MaintenanceStatus | null> {
  try {
    const res = await fetch(`${n.restUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? ((await res.json()) as MaintenanceStatus) : null;
  } catch {
    return null;
  }
}
