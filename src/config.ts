import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './storage/limits.js';

/** One member of the initial cluster, from DKV_CLUSTER. */
export interface ClusterMember {
  id: string;
  /** host:port of the member's gRPC endpoint. */
  address: string;
}

/** A node's whole configuration, validated once at start-up. */
export interface Config {
  nodeId: string;
  /** The founding members (DKV_CLUSTER); empty for a node that joins a running cluster (DKV_JOIN). */
  cluster: ClusterMember[];
  /** host:port of a running member to ask for admission (DKV_JOIN), or null to found or restart. */
  join: string | null;
  /** host:port at which the other members reach this node's gRPC endpoint. */
  advertiseAddress: string;
  /**
   * Identifies this cluster on the wire: peers from another cluster are refused. A joining node
   * takes the cluster's id from its MemberAdd answer instead (and keeps it in its store).
   */
  clusterId: string;
  rpcPort: number;
  restPort: number;
  bindHost: string;
  dbPath: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  requestTimeoutMs: number;
  /** Compact the log once this many applied entries sit in it; followers further behind get a snapshot. */
  snapshotThreshold: number;
  /** Entries kept in the log after compaction, so slightly lagging followers still catch up from it. */
  compactKeepEntries: number;
  snapshotChunkBytes: number;
  shutdownTimeoutMs: number;
  /** Largest key accepted (at most the storage's MAX_KEY_BYTES). */
  maxKeyBytes: number;
  /** Largest value accepted (at most the storage's MAX_VALUE_BYTES). */
  maxValueBytes: number;
  /**
   * Serve REST from a thread of its own (src/api/rest-thread.ts), off the event loop that runs Raft:
   * more writes per second on a busy leader, fewer reads (each pays a hop between threads).
   */
  restThread: boolean;
}

/** A configuration value that is missing or malformed; main prints it as one line and exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

// The proto's rule for member ids (MemberAddRequest.id), so a member added at run time can start.
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

function port(name: string) {
  return z.coerce
    .number({ error: `${name} must be a port number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be between 1 and 65535`)
    .max(65535, `${name} must be between 1 and 65535`);
}

function positiveInt(name: string, min = 1) {
  return z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`);
}

/** Parse DKV_CLUSTER: `a@127.0.0.1:7070,b@127.0.0.1:8080`. */
export function parseCluster(raw: string): ClusterMember[] {
  const members: ClusterMember[] = [];
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const at = part.indexOf('@');
    if (at <= 0) throw new ConfigError('DKV_CLUSTER', `"${part}" is not id@host:port`);
    const id = part.slice(0, at);
    const address = part.slice(at + 1);
    if (!NODE_ID.test(id))
      throw new ConfigError('DKV_CLUSTER', `"${id}" is not a valid node id (letters, digits, _ . -)`);
    const m = HOST_PORT.exec(address);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError('DKV_CLUSTER', `"${address}" (member ${id}) is not host:port`);
    }
    if (members.some((x) => x.id === id))
      throw new ConfigError('DKV_CLUSTER', `member id "${id}" appears twice`);
    members.push({ id, address });
  }
  if (members.length === 0) throw new ConfigError('DKV_CLUSTER', 'names no members');
  return members;
}

/** A stable cluster id derived from the founding member ids, unless DKV_CLUSTER_ID sets one. */
function deriveClusterId(members: ClusterMember[]): string {
  let h = 2166136261;
  for (const id of members.map((m) => m.id).sort()) {
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0x2c, 16777619);
  }
  return `dkv-${(h >>> 0).toString(16).padStart(8, '0')}`;
}

const schema = z.object({
  DKV_NODE_ID: z
    .string({ error: 'is required (this node id, e.g. a)' })
    .regex(NODE_ID, 'must be 1 to 64 letters, digits, _ . -'),
  DKV_CLUSTER: z.string().optional(),
  DKV_JOIN: z
    .string()
    .regex(HOST_PORT, 'must be host:port of a running member (e.g. 127.0.0.1:7070)')
    .optional(),
  DKV_ADVERTISE_ADDRESS: z
    .string()
    .regex(HOST_PORT, 'must be host:port at which the other members reach this node')
    .optional(),
  DKV_CLUSTER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of letters, digits, _ . -')
    .optional(),
  DKV_RPC_PORT: port('DKV_RPC_PORT').optional(),
  DKV_REST_PORT: port('DKV_REST_PORT').optional(),
  DKV_BIND_HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  DKV_DB_PATH: z.string().min(1, 'must not be empty').optional(),
  DKV_LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
      error: 'must be one of trace, debug, info, warn, error, fatal, silent',
    })
    .default('info'),
  DKV_TICK_MS: positiveInt('DKV_TICK_MS').default(100),
  DKV_ELECTION_TICKS: positiveInt('DKV_ELECTION_TICKS', 2).default(10),
  DKV_HEARTBEAT_TICKS: positiveInt('DKV_HEARTBEAT_TICKS').default(1),
  DKV_REQUEST_TIMEOUT_MS: positiveInt('DKV_REQUEST_TIMEOUT_MS', 10).default(5000),
  DKV_SNAPSHOT_THRESHOLD: positiveInt('DKV_SNAPSHOT_THRESHOLD').default(10000),
  DKV_COMPACT_KEEP_ENTRIES: positiveInt('DKV_COMPACT_KEEP_ENTRIES', 0).default(1000),
  DKV_SNAPSHOT_CHUNK_BYTES: positiveInt('DKV_SNAPSHOT_CHUNK_BYTES', 1024)
    .max(3 * 1024 * 1024, 'must stay below gRPC 4 MiB message limit (at most 3 MiB)')
    .default(1024 * 1024),
  DKV_SHUTDOWN_TIMEOUT_MS: positiveInt('DKV_SHUTDOWN_TIMEOUT_MS').default(10000),
  DKV_MAX_KEY_BYTES: positiveInt('DKV_MAX_KEY_BYTES')
    .max(MAX_KEY_BYTES, `DKV_MAX_KEY_BYTES can be at most ${MAX_KEY_BYTES} (what the store can hold)`)
    .default(MAX_KEY_BYTES),
  DKV_MAX_VALUE_BYTES: positiveInt('DKV_MAX_VALUE_BYTES', 0)
    .max(
      MAX_VALUE_BYTES,
      `DKV_MAX_VALUE_BYTES can be at most ${MAX_VALUE_BYTES} (one value must fit one message)`,
    )
    .default(MAX_VALUE_BYTES),
  DKV_REST_THREAD: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false (or 1 or 0)' })
    .default('false'),
});

/**
 * Read and validate the configuration from an environment (process.env in
 * main; nothing else reads it). Throws ConfigError naming the variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, issue.message);
  }
  const e = parsed.data;
  const join = e.DKV_JOIN ?? null;
  if (join === null && e.DKV_CLUSTER === undefined) {
    throw new ConfigError(
      'DKV_CLUSTER',
      'is required (e.g. a@127.0.0.1:7070,b@127.0.0.1:8080,c@127.0.0.1:9090), unless DKV_JOIN names a running member',
    );
  }
  // A joining node founds nothing: DKV_CLUSTER, if also set, is not used.
  const cluster = join === null ? parseCluster(e.DKV_CLUSTER ?? '') : [];
  const self = cluster.find((m) => m.id === e.DKV_NODE_ID);
  if (join === null && !self) {
    throw new ConfigError(
      'DKV_NODE_ID',
      `"${e.DKV_NODE_ID}" is not a member of DKV_CLUSTER (${cluster.map((m) => m.id).join(', ')})`,
    );
  }
  if (join !== null && e.DKV_RPC_PORT === undefined) {
    throw new ConfigError('DKV_RPC_PORT', 'is required with DKV_JOIN (the port of this node gRPC endpoint)');
  }
  const ownPort = self ? Number(self.address.slice(self.address.lastIndexOf(':') + 1)) : 0;
  const rpcPort = e.DKV_RPC_PORT ?? ownPort;
  // Other members must reach us: a wildcard bind host is no address, so loopback stands in for it.
  const advertiseHost =
    e.DKV_BIND_HOST === '0.0.0.0' || e.DKV_BIND_HOST === '::'
      ? '127.0.0.1'
      : e.DKV_BIND_HOST.includes(':')
        ? `[${e.DKV_BIND_HOST}]`
        : e.DKV_BIND_HOST;
  const restPort = e.DKV_REST_PORT ?? rpcPort + 1;
  if (restPort === rpcPort)
    throw new ConfigError('DKV_REST_PORT', `must differ from DKV_RPC_PORT (${rpcPort})`);
  if (e.DKV_HEARTBEAT_TICKS >= e.DKV_ELECTION_TICKS) {
    throw new ConfigError(
      'DKV_HEARTBEAT_TICKS',
      `must be less than DKV_ELECTION_TICKS (${e.DKV_ELECTION_TICKS})`,
    );
  }
  return {
    nodeId: e.DKV_NODE_ID,
    cluster,
    join,
    advertiseAddress: e.DKV_ADVERTISE_ADDRESS ?? self?.address ?? `${advertiseHost}:${rpcPort}`,
    clusterId: e.DKV_CLUSTER_ID ?? (cluster.length > 0 ? deriveClusterId(cluster) : ''),
    rpcPort,
    restPort,
    bindHost: e.DKV_BIND_HOST,
    dbPath: e.DKV_DB_PATH ?? `${e.DKV_NODE_ID}.db`,
    logLevel: e.DKV_LOG_LEVEL,
    tickMs: e.DKV_TICK_MS,
    electionTicks: e.DKV_ELECTION_TICKS,
    heartbeatTicks: e.DKV_HEARTBEAT_TICKS,
    requestTimeoutMs: e.DKV_REQUEST_TIMEOUT_MS,
    snapshotThreshold: e.DKV_SNAPSHOT_THRESHOLD,
    compactKeepEntries: e.DKV_COMPACT_KEEP_ENTRIES,
    snapshotChunkBytes: e.DKV_SNAPSHOT_CHUNK_BYTES,
    shutdownTimeoutMs: e.DKV_SHUTDOWN_TIMEOUT_MS,
    maxKeyBytes: e.DKV_MAX_KEY_BYTES,
    maxValueBytes: e.DKV_MAX_VALUE_BYTES,
    restThread: e.DKV_REST_THREAD === 'true' || e.DKV_REST_THREAD === '1',
  };
}

/** The `dkv` client's settings from the environment (the daemon's are in Config). */
export interface CliConfig {
  /** The gRPC endpoints (`host:port`) to try, in order, when --endpoints is not given. */
  endpoints: string[];
  /** Where the shell keeps its history between sessions. */
  historyFile: string;
}

/** The endpoints of the local cluster `npm start` runs. */
export const DEFAULT_ENDPOINTS = '127.0.0.1:7070,127.0.0.1:8080,127.0.0.1:9090';

/** Parse a comma-separated list of `host:port` gRPC endpoints; `source` names where it came from in errors. */
export function parseEndpoints(raw: string, source: string): string[] {
  const endpoints = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (endpoints.length === 0) throw new ConfigError(source, 'names no endpoint (host:port,host:port)');
  for (const e of endpoints) {
    const m = HOST_PORT.exec(e);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError(source, `"${e}" is not host:port`);
    }
  }
  return endpoints;
}

const cliSchema = z.object({
  DKV_ENDPOINTS: z.string().default(DEFAULT_ENDPOINTS),
  DKV_HISTORY_FILE: z.string().min(1, 'must not be empty').optional(),
});

/**
 * Read and validate the client's environment: DKV_ENDPOINTS and
 * DKV_HISTORY_FILE. It defaults to process.env here so that this module stays
 * the only one that reads it. Throws ConfigError naming the variable.
 */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const parsed = cliSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return {
    endpoints: parseEndpoints(parsed.data.DKV_ENDPOINTS, 'DKV_ENDPOINTS'),
    historyFile: parsed.data.DKV_HISTORY_FILE ?? join(homedir(), '.dkv_history'),
  };
}
