/**
 * The standard gRPC health service (grpc.health.v1.Health) on the gRPC port:
 * the server as a whole ("") and each dkv.v0 service report SERVING exactly
 * when /readyz would answer 200 (readiness.ts), NOT_SERVING otherwise, so a
 * load balancer or grpc_health_probe sees what an HTTP probe sees.
 */
import { status as GrpcStatus, type Server } from '@grpc/grpc-js';
import {
  type HealthCheckResponse,
  type HealthServer,
  HealthService,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health.js';
import type { KvBackend } from './backend.js';
import { readiness } from './readiness.js';

/** The service names the health service knows: the server as a whole, and each public service. */
export const HEALTH_SERVICE_NAMES: readonly string[] = ['', 'dkv.v0.KVStore', 'dkv.v0.ClusterService'];

/** How often a Watch call looks for a change of status (the node has no readiness events). */
export const HEALTH_WATCH_INTERVAL_MS = 250;

/** Options of the health service. */
export interface HealthServiceOptions {
  /** Watch's polling period; the default suits probes, tests may shorten it. */
  watchIntervalMs?: number;
}

/** The status every known service has now: all of them serve, or none does. */
function currentStatus(backend: KvBackend): ServingStatus {
  try {
    return readiness(backend.status()).ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  } catch {
    // The node cannot even report its state (its store is closing): it does not serve.
    return ServingStatus.NOT_SERVING;
  }
}

/** Register grpc.health.v1.Health on a gRPC server, reporting on `backend`'s readiness. */
export function addHealthService(server: Server, backend: KvBackend, opts: HealthServiceOptions = {}): void {
  const watchIntervalMs = opts.watchIntervalMs ?? HEALTH_WATCH_INTERVAL_MS;
  const known = new Set(HEALTH_SERVICE_NAMES);
  const health: HealthServer = {
    check(call, callback) {
      const name = call.request.service;
      if (!known.has(name)) {
        callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service: ${JSON.stringify(name)}` });
        return;
      }
      callback(null, { status: currentStatus(backend) });
    },
    list(_call, callback) {
      const status = currentStatus(backend);
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const name of HEALTH_SERVICE_NAMES) statuses[name] = { status };
      callback(null, { statuses });
    },
    watch(call) {
      // The spec: an unknown name gets SERVICE_UNKNOWN and the stream stays open (our names never change).
      if (!known.has(call.request.service)) {
        call.write({ status: ServingStatus.SERVICE_UNKNOWN });
        return;
      }
      let last = currentStatus(backend);
      call.write({ status: last });
      const timer = setInterval(() => {
        const now = currentStatus(backend);
        if (now === last) return;
        last = now;
        call.write({ status: now });
      }, watchIntervalMs);
      timer.unref();
      const stop = () => clearInterval(timer);
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
  server.addService(HealthService, health);
}
