/**
 * What the benchmark needs from a running three-node cluster, dkv's
 * (cluster.ts) or etcd's (etcd-cluster.ts): its nodes' addresses and
 * processes, which node leads, and a way to stop it.
 */
import { type ProcessNode, stopNodes } from './processes.js';
import type { System } from './workload.js';
import { WriteLedger } from './write-ledger.js';

/** One node (member) of a benchmark cluster. */
export interface BenchNode {
  id: string;
  pid: number;
  /** REST base URL, e.g. `http://127.0.0.1:40123`. */
  restUrl: string;
  /** gRPC address `127.0.0.1:port` of the client API (dkv only). */
  grpcAddress: string | null;
}

/** The leader as the cluster reports it. */
export interface LeaderInfo {
  leaderId: string;
  term: number;
}

/** A running three-node cluster of dkv or etcd on loopback. */
export interface BenchCluster {
  readonly system: System;
  readonly nodes: readonly BenchNode[];
  /** The directory under which the nodes keep their data (on the disk the benchmark watches). */
  readonly dataDir: string;
  /**
   * The Prometheus histogram (on each node's /metrics) of the durable log writes a write waits
   * for: dkv's LMDB durable commit, etcd's WAL fsync.
   */
  readonly durableWriteMetric: string;
  /** The leader's histogram of append round trips by follower (label `peer`), if the system has one. */
  readonly appendRoundTripMetric?: string;
  /** Each follower's histogram of its time to answer an append, if the system has one. */
  readonly appendAnswerMetric?: string;
  /** Every put the benchmark sent this cluster, numbered, for the lost-write check. */
  readonly writes: WriteLedger;
  /** Ask the nodes who leads; throws if they do not agree on one leader within `timeoutMs`. */
  waitForLeader(timeoutMs?: number): Promise<LeaderInfo>;
  /** The leader found by the last waitForLeader(). */
  leader(): BenchNode;
  /** The other nodes, in id order. */
  followers(): BenchNode[];
  /** Lines the servers printed (warnings and errors at the benchmark's log level), last ones per node. */
  serverOutput(): { id: string; lines: number; tail: string[] }[];
  /** Stop every node and delete the data; resolves with how each node ended. */
  stop(): Promise<Record<string, string>>;
}

/**
 * What dkv's and etcd's local clusters share: nodes that are our child processes under one
 * temporary directory, and the leader as the last waitForLeader() found it (each system asks
 * its own way, and sets `current`).
 */
export abstract class LocalBenchCluster<N extends BenchNode & ProcessNode> implements BenchCluster {
  abstract readonly system: System;
  abstract readonly durableWriteMetric: string;
  readonly writes = new WriteLedger();
  protected current: LeaderInfo | null = null;

  protected constructor(
    readonly nodes: N[],
    readonly dataDir: string,
  ) {}

  abstract waitForLeader(timeoutMs?: number): Promise<LeaderInfo>;

  leader(): BenchNode {
    const n = this.nodes.find((x) => x.id === this.current?.leaderId);
    if (!n) throw new Error(`${this.system}: leader unknown; call waitForLeader() first`);
    return n;
  }

  followers(): BenchNode[] {
    const leader = this.leader();
    return this.nodes.filter((n) => n !== leader);
  }

  serverOutput(): { id: string; lines: number; tail: string[] }[] {
    return this.nodes.map((n) => ({ id: n.id, lines: n.proc.lines, tail: [...n.proc.tail] }));
  }

  stop(): Promise<Record<string, string>> {
    return stopNodes(this.nodes, this.dataDir);
  }
}
