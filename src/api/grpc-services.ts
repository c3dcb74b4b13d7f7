/**
 * The public gRPC API: KVStore and ClusterService from the generated
 * service definitions, served by the protocol-neutral KvService. Each call's
 * deadline (the client's, or the default timeout) bounds the backend call.
 */
import type { handleUnaryCall, Server, ServerUnaryCall } from '@grpc/grpc-js';
import { type ClusterServiceServer, ClusterServiceService } from '../gen/dkv/v0/cluster.js';
import { type KVStoreServer, KVStoreService } from '../gen/dkv/v0/kvstore.js';
import { type CallOptions, FORWARDED_METADATA_KEY, type KvBackend } from './backend.js';
import { grpcCallDeadlineMs } from './deadline.js';
import { createKvService } from './kv-service.js';
import { type ApiLog, defaultApiLog } from './log.js';
import { toGrpcError } from './status-map.js';
import type { SizeLimits } from './validate.js';

/** Options of the gRPC services. */
export interface GrpcServiceOptions {
  /** The deadline of a call whose client set none, in milliseconds from its arrival. */
  requestTimeoutMs: number;
  /** Where unexpected errors are logged (they reach the client only as INTERNAL). */
  log?: ApiLog;
  /** Key and value sizes to accept (default: the storage's caps). */
  limits?: SizeLimits;
}

/** Whether another node forwarded this call (it must then be answered here, not forwarded again). */
function callOptions(call: ServerUnaryCall<unknown, unknown>): CallOptions {
  return { forwarded: call.metadata.get(FORWARDED_METADATA_KEY).length > 0 };
}

/** Register KVStore and ClusterService on a gRPC server, backed by `backend`. */
export function addKvServices(server: Server, backend: KvBackend, opts: GrpcServiceOptions): void {
  const service = createKvService(backend, opts.limits);
  const log = opts.log ?? defaultApiLog;

  /** A unary handler that runs `operation` with the call's deadline and maps any failure to a status. */
  const unary =
    <Req, Res>(
      operation: (request: Req, deadlineMs: number, callOpts: CallOptions) => Promise<Res>,
    ): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback) => {
      const deadlineMs = grpcCallDeadlineMs(call.getDeadline(), opts.requestTimeoutMs);
      operation(call.request, deadlineMs, callOptions(call)).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toGrpcError(error, log)),
      );
    };

  const kvStore: KVStoreServer = {
    put: unary((request, deadlineMs) => service.put(request, deadlineMs)),
    get: unary((request, deadlineMs) => service.get(request, deadlineMs)),
    delete: unary((request, deadlineMs) => service.delete(request, deadlineMs)),
    range: unary((request, deadlineMs) => service.range(request, deadlineMs)),
    compareAndSwap: unary((request, deadlineMs) => service.compareAndSwap(request, deadlineMs)),
  };
  const cluster: ClusterServiceServer = {
    // Status is served locally and synchronously; async only so a throw becomes a status.
    status: unary(async () => service.status()),
    memberList: unary((_request, deadlineMs, callOpts) => service.memberList(deadlineMs, callOpts)),
    memberAdd: unary((request, deadlineMs, callOpts) => service.memberAdd(request, deadlineMs, callOpts)),
    memberRemove: unary((request, deadlineMs, callOpts) =>
      service.memberRemove(request, deadlineMs, callOpts),
    ),
    transferLeadership: unary((request, deadlineMs, callOpts) =>
      service.transferLeadership(request, deadlineMs, callOpts),
    ),
    // The node shuts down only after this reply is on its way (the backend defers it).
    shutdown: unary(() => service.shutdown()),
  };
  server.addService(KVStoreService, kvStore);
  server.addService(ClusterServiceService, cluster);
}
