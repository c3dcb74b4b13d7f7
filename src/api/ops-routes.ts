/**
 * The operator's HTTP routes on the REST port, outside the proto API:
 * /healthz (the process serves), /readyz (the node can serve clients, see
 * readiness.ts) and /metrics (Prometheus text, when the daemon provides it).
 * The REST handler asks these before its API router, only for paths that
 * cannot be API paths, so the /v0 hot path never reaches here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiBackend, NodeStatus } from './backend.js';
import { readiness } from './readiness.js';

/** A rendered metrics page: its Content-Type and body. */
export interface MetricsPage {
  contentType: string;
  body: string;
}

/** What the operator routes serve from. */
export interface OpsRoutesOptions {
  /** The node whose readiness /readyz reports. */
  backend: ApiBackend;
  /** Renders /metrics; without it /metrics is not a route. */
  metrics?: () => Promise<MetricsPage>;
  /**
   * Settles once the node's event loop has answered. With the REST server in its own thread the
   * thread's loop answering says nothing of the node's: /healthz waits on this, so a stuck node
   * fails its liveness probe (by the probe's timeout) instead of passing it.
   */
  alive?: () => Promise<void>;
}

/**
 * Serves one operator route: if `path` is one, a promise that settles once
 * the response is written; else null, to let the API router answer.
 */
export type OpsRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> | null;

/** The paths this module serves, for request metrics and docs. */
export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  sendText(res, status, 'application/json', JSON.stringify(body));
}

/** The operator routes over a backend (and a metrics renderer, if any). */
export function createOpsRoutes(opts: OpsRoutesOptions): OpsRoutes {
  return (req, res, path) => {
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return null;
    if (path === '/metrics' && opts.metrics === undefined) return null;
    return serve(req, res, path);
  };

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      // As the API answers a wrong method (grpc-gateway: 501, code 12), with the methods it takes.
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 501, { code: 12, message: `${path} accepts GET and HEAD, not ${method}`, details: [] });
      return;
    }
    switch (path) {
      case '/healthz':
        // The event loop runs and the HTTP server answers: the process is alive.
        if (opts.alive !== undefined) await opts.alive();
        sendJson(res, 200, { status: 'ok' });
        break;
      case '/readyz': {
        let status: NodeStatus;
        try {
          status = await opts.backend.status();
        } catch (e) {
          // The node cannot report its state (its store is closing): not ready, and say why.
          sendJson(res, 503, { status: 'unavailable', reason: (e as Error).message });
          break;
        }
        const r = readiness(status);
        const detail = {
          nodeId: status.nodeId,
          leaderId: status.leaderId,
          term: String(status.term),
          commitIndex: String(status.commitIndex),
          appliedIndex: String(status.appliedIndex),
        };
        if (r.ready) sendJson(res, 200, { status: 'ok', ...detail });
        else sendJson(res, 503, { status: 'unavailable', reason: r.reason, ...detail });
        break;
      }
      default:
        try {
          const page = await opts.metrics!();
          sendText(res, 200, page.contentType, page.body);
        } catch (e) {
          sendJson(res, 500, {
            code: 13,
            message: `metrics could not be rendered: ${(e as Error).message}`,
            details: [],
          });
        }
    }
  }
}
