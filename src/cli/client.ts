/**
 * The CLI's connection to a cluster: one gRPC channel per endpoint, opened on
 * first use, and failover — a call goes to the endpoint that answered last
 * and moves on to the next one when an endpoint cannot be reached.
 */
import {
  type CallOptions,
  type Client,
  connectivityState,
  credentials,
  status as GrpcStatus,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { ClusterServiceClient } from '../gen/dkv/v0/cluster.js';
import { KVStoreClient } from '../gen/dkv/v0/kvstore.js';
import { CliError, ExitCode, exitCodeOfGrpc } from './exit-codes.js';

/** The generated clients of one endpoint, sharing its channel. */
export interface EndpointClients {
  kv: KVStoreClient;
  cluster: ClusterServiceClient;
}

/** How a call may be retried on another endpoint. */
export interface CallPolicy {
  /**
   * True if running the call twice is harmless (reads, put, delete, member add),
   * so it may also move on after UNAVAILABLE or a deadline, whose outcome is
   * unknown; otherwise it moves on only when an endpoint could not be connected.
   */
  idempotent: boolean;
  /** Only these endpoints, no others (e.g. `shutdown --endpoint`). */
  endpoints?: string[];
}

/** A call's answer and who gave it. */
export interface Answer<T> {
  value: T;
  endpoint: string;
}

/** A gRPC call: the generated method bound to its request, given options and a callback. */
export type Invoke<T> = (
  clients: EndpointClients,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, value: T) => void,
) => void;

/** The CLI's gRPC client with failover over a list of endpoints. */
export class DkvClient {
  private readonly open = new Map<string, EndpointClients>();
  /** Index of the endpoint to try first: the one that answered last. */
  private preferred = 0;

  constructor(
    readonly endpoints: string[],
    readonly timeoutMs: number,
    private readonly verbose: (line: string) => void,
  ) {}

  private clients(endpoint: string): EndpointClients {
    let c = this.open.get(endpoint);
    if (!c) {
      const kv = new KVStoreClient(endpoint, credentials.createInsecure());
      const cluster = new ClusterServiceClient(endpoint, credentials.createInsecure(), {
        channelOverride: kv.getChannel(),
      });
      c = { kv, cluster };
      this.open.set(endpoint, c);
    }
    return c;
  }

  /**
   * Run `invoke` on the first endpoint that answers, in order from the
   * preferred one. Throws CliError: the server's error with its exit code, or
   * exit 4 naming every endpoint tried and why it failed.
   */
  async call<T>(what: string, policy: CallPolicy, invoke: Invoke<T>): Promise<Answer<T>> {
    const list = policy.endpoints ?? this.endpoints;
    const start = policy.endpoints ? 0 : this.preferred;
    const tried: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const index = (start + i) % list.length;
      const endpoint = list[index]!;
      const clients = this.clients(endpoint);
      const began = performance.now();
      const connectError = await connect(clients.kv, Date.now() + this.timeoutMs);
      if (connectError !== null) {
        this.verbose(`${endpoint}: ${connectError}`);
        tried.push(`${endpoint} (${connectError})`);
        continue;
      }
      try {
        const value = await new Promise<T>((resolve, reject) =>
          invoke(clients, new Metadata(), { deadline: Date.now() + this.timeoutMs }, (e, v) =>
            e ? reject(e) : resolve(v),
          ),
        );
        if (!policy.endpoints) this.preferred = index;
        this.verbose(`${what} answered by ${endpoint} in ${(performance.now() - began).toFixed(1)} ms`);
        return { value, endpoint };
      } catch (e) {
        const err = e as ServiceError;
        const retriable =
          policy.idempotent &&
          (err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED);
        const reason = `${GrpcStatus[err.code] ?? err.code}: ${err.details || err.message}`;
        this.verbose(
          `${endpoint}: ${what} failed after ${(performance.now() - began).toFixed(1)} ms: ${reason}`,
        );
        if (!retriable || i === list.length - 1) {
          if (
            tried.length > 0 &&
            (err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED)
          ) {
            tried.push(`${endpoint} (${reason})`);
            throw new CliError(
              ExitCode.Unavailable,
              `${what}: no endpoint could answer; tried ${tried.join(', ')}`,
            );
          }
          throw new CliError(
            exitCodeOfGrpc(err.code),
            `${what}: ${err.details || err.message} (${GrpcStatus[err.code] ?? err.code} from ${endpoint})`,
          );
        }
        tried.push(`${endpoint} (${reason})`);
      }
    }
    throw new CliError(ExitCode.Unavailable, `${what}: no endpoint reachable; tried ${tried.join(', ')}`);
  }

  /** Close every channel, so the process can exit. */
  close(): void {
    for (const c of this.open.values()) {
      c.cluster.close();
      c.kv.close();
    }
    this.open.clear();
  }
}

/**
 * Connect a client's channel, or say why it could not: fails at the first
 * connection failure instead of waiting out the deadline (as waitForReady
 * would, retrying with backoff), so a dead endpoint costs one refused connect.
 */
function connect(client: Client, deadline: number): Promise<string | null> {
  const channel = client.getChannel();
  const timeoutMs = Math.max(0, deadline - Date.now());
  return new Promise((resolve) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve(null);
      if (state === connectivityState.TRANSIENT_FAILURE) return resolve('connection failed');
      if (state === connectivityState.SHUTDOWN) return resolve('channel closed');
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) resolve(`no connection within ${timeoutMs} ms`);
        else check();
      });
    };
    check();
  });
}
