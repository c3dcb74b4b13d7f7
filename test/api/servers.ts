/**
 * Real servers on loopback for the API tests: the REST app listening on an
 * ephemeral port, and a grpc-js server with generated clients.
 */

import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { KvBackend } from '../../src/api/backend.js';
import { addKvServices } from '../../src/api/grpc-services.js';
import type { ApiLog } from '../../src/api/log.js';
import { createRestApp } from '../../src/api/rest-app.js';
import { startRestServer } from '../../src/api/rest-server.js';
import type { SizeLimits } from '../../src/api/validate.js';
import { ClusterServiceClient } from '../../src/gen/dkv/v0/cluster.js';
import { KVStoreClient } from '../../src/gen/dkv/v0/kvstore.js';

/** A log that records entries instead of printing them. */
export function recordingLog(): {
  log: ApiLog;
  entries: Array<{ level: string; msg: string; fields?: object }>;
} {
  const entries: Array<{ level: string; msg: string; fields?: object }> = [];
  return { log: (level, msg, fields) => entries.push({ level, msg, fields }), entries };
}

/** A running REST server. */
export interface RestServer {
  url: string;
  /**
   * Resolves once everything the server sent the backend's side before now has been handled
   * there (its log lines, in a REST thread; in-process there is nothing to wait for).
   */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Where the REST API runs: the Express app in-process, or the daemon's REST thread. */
export type RestKind = 'in-process' | 'thread';

/** Both kinds, for suites that run against each. */
export const REST_KINDS: readonly RestKind[] = ['in-process', 'thread'];

/** Start the REST API on 127.0.0.1 at an ephemeral port. */
export async function startRest(
  backend: KvBackend,
  opts: { requestTimeoutMs?: number; log?: ApiLog; limits?: SizeLimits; kind?: RestKind } = {},
): Promise<RestServer> {
  if (opts.kind === 'thread') {
    const server = await startRestServer({
      backend,
      port: 0,
      host: '127.0.0.1',
      requestTimeoutMs: opts.requestTimeoutMs ?? 2000,
      limits: opts.limits,
      log: opts.log ?? (() => {}),
      thread: true,
    });
    const url = `http://127.0.0.1:${server.port}`;
    return {
      url,
      // /healthz asks the node's side, behind everything the thread sent before it.
      settle: async () => {
        await (await fetch(`${url}/healthz`)).text();
      },
      close: () => server.close(0),
    };
  }
  const app = createRestApp(backend, {
    requestTimeoutMs: opts.requestTimeoutMs ?? 2000,
    log: opts.log,
    limits: opts.limits,
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    settle: async () => {},
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies RestServer;
}

/** A REST response: status, headers and the body as text and, if it parses, JSON. */
export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Send one request with fetch. */
export async function rest(
  server: RestServer,
  method: string,
  path: string,
  init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<RestResponse> {
  const response = await fetch(server.url + path, { method, body: init.body, headers: init.headers });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A running gRPC server with a client of each service. */
export interface GrpcServer {
  kv: KVStoreClient;
  cluster: ClusterServiceClient;
  close(): Promise<void>;
}

/** Start a gRPC server on 127.0.0.1 at an ephemeral port, with connected clients. */
export async function startGrpc(
  backend: KvBackend,
  opts: { requestTimeoutMs?: number; log?: ApiLog } = {},
): Promise<GrpcServer> {
  const server = new grpc.Server();
  addKvServices(server, backend, { requestTimeoutMs: opts.requestTimeoutMs ?? 2000, log: opts.log });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    );
  });
  const address = `127.0.0.1:${port}`;
  const kv = new KVStoreClient(address, grpc.credentials.createInsecure());
  const cluster = new ClusterServiceClient(address, grpc.credentials.createInsecure());
  return {
    kv,
    cluster,
    close: async () => {
      kv.close();
      cluster.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** A unary client method in its (request, metadata, options, callback) form. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** Call a unary method and await its response (rejects with the ServiceError). */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: Partial<grpc.CallOptions> = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new grpc.Metadata(), options, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** The status of a failed call, for assertions. */
export async function grpcFailure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (e) {
    const error = e as grpc.ServiceError;
    return { code: error.code, details: error.details };
  }
  throw new Error('expected the call to fail');
}
