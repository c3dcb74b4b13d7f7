/**
 * Preloading: write every key of the benchmark's keyspace once (sequential
 * keys, 64 connections to the leader) so that reads find their keys.
 */
import type { BenchCluster } from './bench-cluster.js';
import { runLoad } from './load.js';

/** Put keys 0..keys-1 through the leader; throws if any put fails. Returns puts per second. */
export async function preloadKeys(cluster: BenchCluster, keys: number, valueBytes: number): Promise<number> {
  await cluster.waitForLeader();
  const { result } = await runLoad({
    system: cluster.system,
    protocol: 'http',
    targets: [cluster.leader().restUrl],
    op: 'put',
    connections: Math.min(64, keys),
    requests: keys,
    keyOrder: 'sequential',
    keys,
    valueBytes,
    timeoutMs: 30_000,
    label: `${cluster.system} preload`,
    ledger: cluster.writes,
  });
  if (result.errorCount > 0 || result.completed !== keys) {
    throw new Error(
      `${cluster.system} preload: ${result.completed}/${keys} puts, errors ${JSON.stringify(result.errors)} ${result.errorSamples.join(' | ')}`,
    );
  }
  return result.throughput;
}
