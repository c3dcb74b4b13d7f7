/**
 * gRPC calls for the load generator (dkv's KVStore service only): one
 * channel per target address, shared by every connection mapped to that
 * target, so C "connections" are C concurrent calls multiplexed on HTTP/2.
 * A call's deadline is the timeout; DEADLINE_EXCEEDED counts as `timeout`.
 */
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { KVStoreClient } from '../../src/gen/dkv/v0/kvstore.js';
import type { Done, Sender } from './sender.js';
import type { Workload } from './workload.js';

/** Calls of `workload` to the gRPC addresses (`host:port`) in `addresses`. */
export class GrpcSender implements Sender {
  private readonly clients: KVStoreClient[];

  constructor(
    addresses: string[],
    private readonly workload: Workload,
    private readonly timeoutMs: number,
  ) {
    if (addresses.length === 0) throw new Error('no gRPC targets');
    if (workload.system !== 'dkv') throw new Error('the gRPC sender speaks dkv only');
    this.clients = addresses.map(
      // A local subchannel pool: a channel of its own per target, not one shared with other clients.
      (a) => new KVStoreClient(a, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    );
  }

  async open(): Promise<void> {
    const deadline = Date.now() + 10_000;
    await Promise.all(
      this.clients.map(
        (c) => new Promise<void>((res, rej) => c.waitForReady(deadline, (err) => (err ? rej(err) : res()))),
      ),
    );
  }

  send(conn: number, key: number, seq: number, done: Done): void {
    const client = this.clients[conn % this.clients.length]!;
    const shape = this.workload.grpc(key, seq);
    const options = { deadline: Date.now() + this.timeoutMs };
    const callback = (err: ServiceError | null) => {
      if (!err) done(null);
      else if (err.code === status.DEADLINE_EXCEEDED) done('timeout', err.details);
      else done(`grpc ${status[err.code] ?? err.code}`, err.details);
    };
    if (shape.method === 'put') client.put(shape.request, new Metadata(), options, callback);
    else client.get(shape.request, new Metadata(), options, callback);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
