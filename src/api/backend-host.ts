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

type Operation = (...args: never[]) => unknown;

/** Serves the items of the REST thread's batches; returns the handler for them. */
export function hostBackend(port: WirePort, opts: BackendHostOptions): (items: ToNode[]) => void {
  const { backend } = opts;
  // queueMicrotask: the answers of one apply (resolved together) leave as one message.
  const out = new Batcher<ToRest>((items) => port.postMessage({ t: 'replies', items }), queueMicrotask);
  const operations: Record<RemoteMethod, Operation> = {
    put: backend.put.bind(backend),
    get: backend.get.bind(backend),
    delete: backend.delete.bind(backend),
    range: backend.range.bind(backend),
    compareAndSwap: backend.compareAndSwap.bind(backend),
    status: backend.status.bind(backend),
    memberList: backend.memberList.bind(backend),
    memberAdd: backend.memberAdd.bind(backend),
    memberRemove: backend.memberRemove.bind(backend),
    transferLeadership: backend.transferLeadership.bind(backend),
    shutdown: backend.shutdown.bind(backend),
    metrics: () => {
      if (opts.metrics === undefined) throw new Error('this node renders no metrics');
      return opts.metrics();
    },
    ping: () => undefined,
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
            Promise.resolve(operations[method](...(fromWire(item.args) as never[]))).then(
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
