/**
 * The dkv daemon: read the configuration from the environment, open the
 * node's LMDB store, serve gRPC (client API and Raft peers) on DKV_RPC_PORT
 * and REST on DKV_REST_PORT, and shut down cleanly on SIGTERM/SIGINT, also while starting.
 */
import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { type Logger, pino } from 'pino';
import { addKvServices } from './api/grpc-services.js';
import { addHealthService } from './api/health-service.js';
import { addReflectionService } from './api/reflection.js';
import { type RestServer, startRestServer } from './api/rest-server.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { boundHeapGrowth } from './heap-growth.js';
import { DkvMetrics } from './metrics/dkv-metrics.js';
import { ClusterClient } from './node/cluster-client.js';
import { JoinCancelledError, joinCluster } from './node/join.js';
import { RaftNode } from './node/raft-node.js';
import { openNodeStore } from './storage/open-store.js';
import { createPeerTransport, PEER_SERVER_OPTIONS } from './transport/index.js';

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`dkv: invalid configuration: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

function bindGrpc(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

/** Startup cannot go on (a port taken, a join refused): the message names what, for the operator. */
class StartupError extends Error {}

/** The parts of the daemon that are up; a stop closes exactly these. */
interface Running {
  store: ReturnType<typeof openNodeStore>;
  grpcServer?: grpc.Server;
  node?: RaftNode;
  restServer?: RestServer;
}

async function main(): Promise<void> {
  boundHeapGrowth();
  const config = readConfig();
  const log = pino({ level: config.logLevel, base: { node: config.nodeId } });

  mkdirSync(config.dbPath, { recursive: true });
  const running: Running = { store: openNodeStore(config.dbPath) };
  // A signal may come at any moment of startup (joining a cluster that does not answer yet can
  // take as long as it likes): it ends the step in progress, and what is up is closed cleanly.
  const stop = new AbortController();
  let startup: Promise<void> = Promise.resolve();
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) {
      log.warn({ signal: why }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal: why }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    stop.abort();
    await startup.catch(() => {});
    await stopRunning(running);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  startup = start(config, log, running, stop.signal, (why) => void shutdown(why));
  try {
    await startup;
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    console.error(`dkv: ${e.message}`);
    // A stop under way closes what is up; otherwise close it here, then fail.
    if (stopping) return;
    await stopRunning(running).catch(() => {});
    process.exit(1);
  }
}

/**
 * Bring the daemon up: join (DKV_JOIN), gRPC, the node, REST, recording each part in `running`
 * as it comes up. Returns early, leaving the rest down, once `stopped` is aborted.
 */
async function start(
  config: Config,
  log: Logger,
  running: Running,
  stopped: AbortSignal,
  requestShutdown: (why: string) => void,
): Promise<void> {
  const store = running.store;
  // The cluster id on the wire: a node that joined keeps the one the cluster gave it.
  let clusterId = store.clusterId() ?? config.clusterId;
  let joinPeers: { id: string; address: string }[] = [];
  if (config.join !== null) {
    if (store.log.lastIndex() > 0) {
      log.info(
        { db: config.dbPath },
        'DKV_JOIN: the store already holds this node state; restarting from it',
      );
    } else {
      // Fresh (or joined but never reached by the leader): ask to be added; the same id and
      // address again is a no-op, and its answer tells us the cluster id and whom to reach.
      const client = new ClusterClient();
      // Ends an attempt in flight at once (a peer that takes connections but never answers).
      const closeClient = () => client.close();
      stopped.addEventListener('abort', closeClient, { once: true });
      log.info({ via: config.join, address: config.advertiseAddress }, 'joining a running cluster');
      try {
        const joined = await joinCluster({
          joinAddress: config.join,
          nodeId: config.nodeId,
          advertiseAddress: config.advertiseAddress,
          attemptTimeoutMs: config.requestTimeoutMs,
          client,
          log,
          signal: stopped,
        });
        clusterId = joined.clusterId;
        joinPeers = joined.members.map((m) => ({ id: m.id, address: m.address }));
        await store.setClusterId(clusterId);
      } catch (e) {
        if (e instanceof JoinCancelledError) return;
        throw new StartupError(
          `cannot join the cluster through ${config.join} (DKV_JOIN): ${(e as Error).message}`,
        );
      } finally {
        stopped.removeEventListener('abort', closeClient);
        client.close();
      }
    }
  }
  if (stopped.aborted) return;
  const metrics = new DkvMetrics();
  store.observer = metrics.node.storeObserver;
  let node: RaftNode | null = null;
  const limits = { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes };
  const apiLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object) =>
    log[level](fields ?? {}, msg);
  const transport = createPeerTransport({
    nodeId: config.nodeId,
    clusterId,
    chunkBytes: config.snapshotChunkBytes,
    handlers: {
      onMessages: (msgs) => node?.receive(msgs),
      onSnapshot: (m) => node?.receive([m]),
      onUnreachable: (peer) => node?.unreachable(peer),
    },
    log: apiLog,
  });
  node = new RaftNode({
    nodeId: config.nodeId,
    store,
    transport,
    founders: config.cluster,
    joinPeers,
    clusterId,
    onShutdown: () => requestShutdown('Shutdown RPC'),
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    snapshotThreshold: config.snapshotThreshold,
    compactKeepEntries: config.compactKeepEntries,
    snapshotChunkBytes: config.snapshotChunkBytes,
    log,
    observer: metrics.node.nodeObserver,
  });
  running.node = node;
  const backend = node;

  const grpcServer = new grpc.Server({ ...PEER_SERVER_OPTIONS, interceptors: [metrics.grpc.interceptor] });
  transport.register(grpcServer);
  addKvServices(grpcServer, node, { requestTimeoutMs: config.requestTimeoutMs, log: apiLog, limits });
  addHealthService(grpcServer, node);
  try {
    addReflectionService(grpcServer);
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
  const rpcAddress = `${config.bindHost.includes(':') ? `[${config.bindHost}]` : config.bindHost}:${config.rpcPort}`;
  // The node first: a request the gRPC server took before the node had started would find no core.
  await node.start();
  if (stopped.aborted) return;
  try {
    await bindGrpc(grpcServer, rpcAddress);
  } catch (e) {
    throw new StartupError(`cannot listen for gRPC on ${rpcAddress} (DKV_RPC_PORT): ${(e as Error).message}`);
  }
  running.grpcServer = grpcServer;
  if (stopped.aborted) return;

  try {
    running.restServer = await startRestServer({
      backend,
      port: config.restPort,
      host: config.bindHost,
      requestTimeoutMs: config.requestTimeoutMs,
      limits,
      log: apiLog,
      metrics: () => metrics.render(() => backend.status()),
      observeRequest: metrics.http.observe,
      thread: config.restThread,
      onThreadFailure: (e) => {
        log.fatal({ err: e }, 'the REST thread failed: exiting');
        process.exit(1);
      },
    });
  } catch (e) {
    throw new StartupError(
      `cannot listen for REST on ${config.bindHost}:${config.restPort} (DKV_REST_PORT): ${(e as Error).message}`,
    );
  }
  if (stopped.aborted) return;
  log.info(
    {
      rpc: rpcAddress,
      rest: `${config.bindHost}:${config.restPort}`,
      db: config.dbPath,
      cluster: clusterId,
    },
    'dkv node started',
  );
}

/** Close what is up: stop taking requests (those in flight get a moment), then the node, then the store. */
async function stopRunning(running: Running): Promise<void> {
  // Idle keep-alive connections and peers' long-lived streams would otherwise hold the servers open.
  const grace = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
  const restClosed = running.restServer?.close(1000);
  const grpcServer = running.grpcServer;
  if (grpcServer) {
    const grpcClosed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    await Promise.race([grpcClosed, grace(1000)]);
    grpcServer.forceShutdown();
  }
  await restClosed;
  // Then finish the Ready in progress, and flush and close the store.
  await running.node?.stop();
  await running.store.close();
}

main().catch((e: unknown) => {
  console.error(`dkv: fatal: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
