/**
 * HTTP request metrics for the REST port: dkv_http_requests_total and
 * dkv_http_request_duration_seconds by method, route template (so a key in
 * the path never becomes a label value) and status code.
 */
import type { Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './buckets.js';
import { RequestMetrics } from './request-metrics.js';

/** The HTTP methods kept as label values; any other is counted as `other`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The REST port's request metrics. */
export class HttpMetrics {
  private readonly requests: RequestMetrics<'method' | 'route' | 'code'>;

  constructor(register: Registry) {
    this.requests = new RequestMetrics(
      register,
      'dkv_http',
      'HTTP requests',
      ['method', 'route', 'code'],
      LATENCY_BUCKETS_SECONDS,
    );
  }

  /** Count one answered request (RestOptions.observeRequest). */
  readonly observe = (method: string, route: string, status: number, ms: number): void => {
    // A client may send any method name: only the standard ones become label values.
    this.requests.observe(KNOWN_METHODS.has(method) ? method : 'other', route, status, ms);
  };
}
