/**
 * All of a daemon's metrics on one prom-client registry: the node's Raft and
 * storage metrics, HTTP and gRPC request metrics, and prom-client's default
 * process and Node.js runtime metrics (process_*, nodejs_*). /metrics renders
 * it in the Prometheus text format.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { NodeStatus } from '../api/backend.js';
import type { MetricsPage } from '../api/ops-routes.js';
import { GrpcMetrics } from './grpc-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { NodeMetrics } from './node-metrics.js';

/** Options of DkvMetrics. */
export interface DkvMetricsOptions {
  /** Also collect prom-client's default process and runtime metrics (default true; tests may skip them). */
  defaultMetrics?: boolean;
}

/** One daemon's metrics. */
export class DkvMetrics {
  /** The registry every metric here is on (its own, not prom-client's global one). */
  readonly registry = new Registry();
  /** Raft state and node/storage events; hand its observers to the node and the store. */
  readonly node: NodeMetrics;
  /** REST requests; hand `http.observe` to the REST handler. */
  readonly http: HttpMetrics;
  /** gRPC calls; hand `grpc.interceptor` to the gRPC server. */
  readonly grpc: GrpcMetrics;

  constructor(opts: DkvMetricsOptions = {}) {
    this.node = new NodeMetrics(this.registry);
    this.http = new HttpMetrics(this.registry);
    this.grpc = new GrpcMetrics(this.registry);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The metrics page, with the state gauges read from `status` now. If the
   * node cannot report (its store is closing), the gauges keep their last values.
   */
  async render(status: () => NodeStatus): Promise<MetricsPage> {
    let current: NodeStatus | null = null;
    try {
      current = status();
    } catch {
      current = null;
    }
    if (current !== null) this.node.update(current);
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
