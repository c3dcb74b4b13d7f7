/**
 * Shared scaffolding for the transport tests: seeded random Raft messages,
 * real gRPC servers on loopback, nodes that record what their transport
 * delivered, and a bounded poll instead of fixed sleeps.
 */
import * as grpc from '@grpc/grpc-js';
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  isLocalMessage,
  type Message,
  MessageType,
  type NodeId,
  type Prng,
} from '../../src/raft/index.js';
import {
  createPeerTransport,
  type GrpcPeerTransportOptions,
  PEER_SERVER_OPTIONS,
  type PeerTransport,
} from '../../src/transport/index.js';

/** Every message type that crosses the network. */
export const NETWORK_TYPES: MessageType[] = Object.values(MessageType)
  .filter((v): v is MessageType => typeof v === 'number')
  .filter((t) => !isLocalMessage(t));

/** Random bytes of the given length. */
export function randomBytes(rng: Prng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}

/** A random term/index: mostly small, sometimes near 2^53 to exercise the uint64 strings. */
function randomU64(rng: Prng): number {
  if (rng.chance(0.1)) return Number.MAX_SAFE_INTEGER - rng.int(1000);
  return rng.chance(0.2) ? 0 : rng.int(1_000_000);
}

function randomEntry(rng: Prng): Entry {
  return {
    term: randomU64(rng),
    index: randomU64(rng),
    type: rng.chance(0.2) ? EntryType.ConfChange : EntryType.Normal,
    data: rng.chance(0.2) ? EMPTY_BYTES : randomBytes(rng, rng.int(300)),
  };
}

/** A random network message of type `type`, every field filled in. */
export function randomMessage(rng: Prng, type: MessageType, from: NodeId, to: NodeId): Message {
  const ids = ['a', 'b', 'c', 'node-42', 'ü'];
  return {
    type,
    from,
    to,
    term: randomU64(rng),
    logTerm: randomU64(rng),
    index: randomU64(rng),
    entries: Array.from({ length: rng.int(4) }, () => randomEntry(rng)),
    commit: randomU64(rng),
    reject: rng.chance(0.5),
    rejectHint: randomU64(rng),
    logTermHint: randomU64(rng),
    snapshot:
      type === MessageType.Snap
        ? {
            meta: {
              index: randomU64(rng),
              term: randomU64(rng),
              confState: {
                voters: ids.filter(() => rng.chance(0.5)),
                learners: ids.filter(() => rng.chance(0.3)),
              },
            },
            data: EMPTY_BYTES,
          }
        : null,
    context: rng.chance(0.3) ? EMPTY_BYTES : randomBytes(rng, rng.int(40)),
  };
}

/** A small App message, the common case on a busy cluster. */
export function appMessage(from: NodeId, to: NodeId, index: number, payload: Uint8Array): Message {
  return {
    type: MessageType.App,
    from,
    to,
    term: 3,
    logTerm: 3,
    index,
    entries: [{ term: 3, index: index + 1, type: EntryType.Normal, data: payload }],
    commit: index,
    reject: false,
    rejectHint: 0,
    logTermHint: 0,
    snapshot: null,
    context: EMPTY_BYTES,
  };
}

/** Start a gRPC server on loopback (port 0: a free one) with the given services added by `setup`. */
export async function startServer(
  setup: (server: grpc.Server) => void,
  port = 0,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(PEER_SERVER_OPTIONS);
  setup(server);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return { server, port: bound };
}

/** Stop a server at once (open calls are cancelled). */
export function stopServer(server: grpc.Server): void {
  server.forceShutdown();
}

/** One log line a transport wrote. */
export interface LogLine {
  level: string;
  msg: string;
  fields?: object;
}

/** A node under test: its transport, its server, and everything its transport handed to it. */
export interface TestNode {
  id: NodeId;
  transport: PeerTransport;
  server: grpc.Server;
  port: number;
  address: string;
  /** Each onMessages call, in order. */
  deliveries: Message[][];
  snapshots: Message[];
  unreachable: NodeId[];
  logs: LogLine[];
  /** Close the transport and stop the server. */
  stop(): Promise<void>;
}

/** Start a node with a real server on loopback and a transport that records what it receives. */
export async function startNode(
  id: NodeId,
  extra: Partial<GrpcPeerTransportOptions> & { clusterId?: string; port?: number } = {},
): Promise<TestNode> {
  const deliveries: Message[][] = [];
  const snapshots: Message[] = [];
  const unreachable: NodeId[] = [];
  const logs: LogLine[] = [];
  const transport = createPeerTransport({
    nodeId: id,
    clusterId: 'test-cluster',
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    ...extra,
    handlers: {
      onMessages: (msgs) => deliveries.push(msgs),
      onSnapshot: (m) => snapshots.push(m),
      onUnreachable: (peer) => unreachable.push(peer),
      ...extra.handlers,
    },
  });
  const { server, port } = await startServer((s) => transport.register(s), extra.port ?? 0);
  return {
    id,
    transport,
    server,
    port,
    address: `127.0.0.1:${port}`,
    deliveries,
    snapshots,
    unreachable,
    logs,
    async stop() {
      await transport.close();
      stopServer(server);
    },
  };
}

/** Poll `condition` every few ms until it holds; fail after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
