/**
 * The REST thread's side of the node (rest-thread.ts): an ApiBackend whose
 * every call is sent to the node's thread (backend-host.ts answers it), plus
 * the metrics page, a liveness ping, and the REST server's request
 * observations and log lines, which the node's thread records.
 */
import type { ApiBackend } from './backend.js';
import {
  Batcher,
  errorFromWire,
  fromWire,
  type RemoteMethod,
  type ToNode,
  type ToRest,
  toWire,
  type WirePort,
} from './backend-wire.js';
import type { ApiLog } from './log.js';
import type { MetricsPage } from './ops-routes.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class RemoteBackend {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly out: Batcher<ToNode>;

  constructor(port: WirePort) {
    // setImmediate: the requests parsed in one poll phase leave as one message.
    this.out = new Batcher((items) => port.postMessage({ t: 'batch', items }), setImmediate);
  }

  /** The node's answers, as the REST thread's message handler receives them. */
  receive(items: ToRest[]): void {
    for (const item of items) {
      const waiting = this.pending.get(item.id);
      if (waiting === undefined) continue;
      this.pending.delete(item.id);
      if ('error' in item) waiting.reject(errorFromWire(item.error));
      else waiting.resolve(fromWire(item.value));
    }
  }

  /** Send the calls, observations and log lines waiting for the end of the turn now. */
  flush(): void {
    this.out.flush();
  }

  private remote<M extends keyof ApiBackend & RemoteMethod>(method: M): ApiBackend[M] {
    return ((...args: unknown[]) => this.call(method, args)) as ApiBackend[M];
  }

  private call<T>(method: RemoteMethod, args: unknown[]): Promise<T> {
    const id = this.nextId++;
    this.out.push({ t: 'call', id, method, args: args.map(toWire) });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * The node's backend as the REST handler calls it: every method sends its arguments as they are
   * and resolves with the node's answer (the wire is untyped; the node's methods give the types).
   */
  readonly backend: ApiBackend = {
    put: this.remote('put'),
    get: this.remote('get'),
    delete: this.remote('delete'),
    range: this.remote('range'),
    compareAndSwap: this.remote('compareAndSwap'),
    status: this.remote('status'),
    memberList: this.remote('memberList'),
    memberAdd: this.remote('memberAdd'),
    memberRemove: this.remote('memberRemove'),
    transferLeadership: this.remote('transferLeadership'),
    shutdown: this.remote('shutdown'),
  };

  /** The node's /metrics page. */
  readonly metrics = (): Promise<MetricsPage> => this.call('metrics', []);

  /** Settles once the node's event loop has answered. */
  readonly ping = (): Promise<void> => this.call('ping', []);

  /** A log line for the node's logger (fields as JSON, so anything loggable crosses). */
  readonly log: ApiLog = (level, msg, fields) => {
    this.out.push({
      t: 'log',
      level,
      msg,
      fields: fields === undefined ? undefined : JSON.parse(JSON.stringify(fields)),
    });
  };

  /** A finished request, for the node's request metrics. */
  readonly observe = (method: string, route: string, status: number, ms: number): void => {
    this.out.push({ t: 'observe', method, route, status, ms });
  };
}
