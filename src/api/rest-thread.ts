/**
 * The REST server in a thread of its own (the entry of the worker that
 * rest-server.ts starts). HTTP parsing, JSON and base64 decoding, validation
 * and response encoding are most of a request's CPU; here they run beside
 * the node's event loop instead of taking turns with Raft on it, and the
 * node's thread only runs the backend calls (backend-remote.ts sends them,
 * backend-host.ts answers). Same routes, errors and deadlines as in-process.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RemoteBackend } from './backend-remote.js';
import type { NodeThreadMessage, RestThreadMessage } from './backend-wire.js';
import { closeHttpServer } from './close-http.js';
import { createOpsRoutes } from './ops-routes.js';
import { createRestHandler } from './rest.js';
import type { SizeLimits } from './validate.js';

/** What the node's thread tells the REST thread at its start. */
export interface RestThreadData {
  port: number;
  host: string;
  requestTimeoutMs: number;
  limits?: SizeLimits;
  /** The node renders /metrics. */
  metrics: boolean;
  /** The node records request metrics (else observations are not sent). */
  observeRequests: boolean;
}

function runRestThread(port: NonNullable<typeof parentPort>, data: RestThreadData): void {
  const post = (message: RestThreadMessage) => port.postMessage(message);
  const node = new RemoteBackend(port);
  const server = createServer(
    createRestHandler(node.backend, {
      requestTimeoutMs: data.requestTimeoutMs,
      log: node.log,
      limits: data.limits,
      ops: createOpsRoutes({
        backend: node.backend,
        metrics: data.metrics ? node.metrics : undefined,
        alive: node.ping,
      }),
      observeRequest: data.observeRequests ? node.observe : undefined,
    }),
  );
  port.on('message', (message: NodeThreadMessage) => {
    if (message.t === 'replies') {
      node.receive(message.items);
      return;
    }
    void closeHttpServer(server, message.graceMs).then(() => {
      // The last requests' observations and log lines first: the node stops the thread on 'closed'.
      node.flush();
      post({ t: 'closed' });
    });
  });
  const listenFailed = (e: Error) => post({ t: 'listen-failed', message: e.message });
  server.once('error', listenFailed);
  server.listen(data.port, data.host, () => {
    server.off('error', listenFailed);
    // Later errors (e.g. accept failing with EMFILE) are the node's log's, as they would be in-process.
    server.on('error', (e) => node.log('error', 'REST server error', { err: { message: e.message } }));
    post({ t: 'listening', port: (server.address() as AddressInfo).port });
  });
}

if (!isMainThread && parentPort !== null) runRestThread(parentPort, workerData as RestThreadData);
