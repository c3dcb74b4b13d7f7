/**
 * gRPC request metrics for the gRPC port: dkv_grpc_requests_total and
 * dkv_grpc_request_duration_seconds by service, method and status code name,
 * recorded by a server interceptor. Only unary calls are counted: the
 * streams (Raft peer links, health Watch, reflection) live as long as a
 * connection, so their count and duration say nothing about requests.
 */
import {
  status as GrpcStatus,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './buckets.js';
import { RequestMetrics } from './request-metrics.js';

/** A method path (`/dkv.v0.KVStore/Put`) split into service and method. */
interface MethodName {
  service: string;
  method: string;
}

/** The status code's name (`OK`, `UNAVAILABLE`), or its number if grpc-js knows no name for it. */
function codeName(code: number): string {
  return GrpcStatus[code] ?? String(code);
}

/** The gRPC port's request metrics, and the interceptor that records them. */
export class GrpcMetrics {
  private readonly requests: RequestMetrics<'service' | 'method' | 'code'>;
  private readonly names = new Map<string, MethodName>();

  constructor(register: Registry) {
    this.requests = new RequestMetrics(
      register,
      'dkv_grpc',
      'gRPC unary calls',
      ['service', 'method', 'code'],
      LATENCY_BUCKETS_SECONDS,
    );
  }

  private methodName(path: string): MethodName {
    let name = this.names.get(path);
    if (name === undefined) {
      const slash = path.lastIndexOf('/');
      name = { service: path.slice(1, slash), method: path.slice(slash + 1) };
      this.names.set(path, name);
    }
    return name;
  }

  /** Count one finished call (exported for tests; the interceptor calls it). */
  observe(path: string, code: number, ms: number): void {
    const name = this.methodName(path);
    this.requests.observe(name.service, name.method, codeName(code), ms);
  }

  /** The server interceptor: give it to the grpc.Server's `interceptors` option. */
  readonly interceptor: ServerInterceptor = (definition, call) => {
    if (definition.requestStream || definition.responseStream) {
      // Streams pass through untouched; the cast is what "no interceptor" looks like to grpc-js.
      return call as ServerInterceptingCallInterface as ServerInterceptingCall;
    }
    const start = performance.now();
    const path = definition.path;
    return new ServerInterceptingCall(call, {
      sendStatus: (status, next) => {
        this.observe(path, status.code ?? GrpcStatus.UNKNOWN, performance.now() - start);
        next(status);
      },
    });
  };
}
