/**
 * The node's thread's side of the REST thread (rest-thread.ts): runs the
 * calls RemoteBackend sends against the node and sends back the answers, one
 * message for all the answers a turn produces; records the REST thread's
 * request observations and log lines.
 */
import type { KvBackend } from './backend.js';
import {
  Batcher,
  errorToWire,
  fromWire,
  REMOTE_METHODS,
  type RemoteMethod,
  type ToNode,
  type ToRest,
  toWire,
  type WirePort,
} from './backend-wire.js';
import type { ApiLog } from './log.js';
import type { MetricsPage } from './ops-routes.js';

/** What the node's thread serves the REST thread from. */
export interface BackendHostOptions {
  backend: KvBackend;
  log: ApiLog;
  /** Renders /metrics; without it the REST thread's metrics call fails. */
  metrics?: () => Promise<MetricsPage>;
  /** Told of every request the REST thread answered. */
  observeRequest?: (method: string, route: string, status: number, ms: number) => void;
}

/** Serves the items of the REST thread's batches; returns the handler for them. */
export function hostBackend(port: WirePort, opts: BackendHostOptions): (items: ToNode[]) => void {
  const { backend } = opts;
  // queueMicrotask: the answers of one apply (resolved together) leave as one message.
  const out = new Batcher<ToRest>((items) => port.postMessage({ t: 'replies', items }), queueMicrotask);
  /** Run one call: the backend's own methods by name, plus the metrics page and the ping. */
  const run = (method: RemoteMethod, args: unknown[]): unknown => {
    switch (method) {
      case 'metrics':
        if (opts.metrics === undefined) throw new Error('this node renders no metrics');
        return opts.metrics();
      case 'ping':
        return undefined;
      default:
        return (backend[method] as (...a: unknown[]) => unknown).apply(backend, args);
    }
  };
  const known = new Set<string>(REMOTE_METHODS);
  const answer = (id: number, value: unknown) => out.push({ id, value: toWire(value) });
  const fail = (id: number, error: unknown) => out.push({ id, error: errorToWire(error) });
  return (items) => {
    for (const item of items) {
      switch (item.t) {
        case 'call': {
          const { id, method } = item;
          if (!known.has(method)) {
            fail(id, new Error(`unknown method ${JSON.stringify(method)}`));
            break;
          }
          try {
            Promise.resolve(run(method, fromWire(item.args) as unknown[])).then(
              (value) => answer(id, value),
              (error) => fail(id, error),
            );
          } catch (error) {
            fail(id, error);
          }
          break;
        }
        case 'observe':
          opts.observeRequest?.(item.method, item.route, item.status, item.ms);
          break;
        case 'log':
          opts.log(item.level, item.msg, item.fields);
          break;
      }
    }
  };
}
