/**
 * The REST thread's side of the node (rest-thread.ts): an ApiBackend whose
 * every call is sent to the node's thread (backend-host.ts answers it), plus
 * the metrics page, a liveness ping, and the REST server's request
 * observations and log lines, which the node's thread records.
 */
import type {
  ApiBackend,
  CallOptions,
  KeyValue,
  MemberAddResult,
  MemberListResult,
  MemberStatus,
  NodeStatus,
  ReadConsistency,
} from './backend.js';
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

export class RemoteBackend implements ApiBackend {
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

  private call<T>(method: RemoteMethod, args: unknown[]): Promise<T> {
    const id = this.nextId++;
    this.out.push({ t: 'call', id, method, args: args.map(toWire) });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
  }

  put(key: Buffer, value: Buffer, deadlineMs: number): Promise<{ revision: number }> {
    return this.call('put', [key, value, deadlineMs]);
  }

  get(
    key: Buffer,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kv: KeyValue | null; revision: number }> {
    return this.call('get', [key, consistency, deadlineMs]);
  }

  delete(key: Buffer, deadlineMs: number): Promise<{ deleted: boolean; revision: number }> {
    return this.call('delete', [key, deadlineMs]);
  }

  range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
    consistency: ReadConsistency,
    deadlineMs: number,
  ): Promise<{ kvs: KeyValue[]; more: boolean; revision: number }> {
    return this.call('range', [prefix, startAfter, limit, consistency, deadlineMs]);
  }

  compareAndSwap(
    key: Buffer,
    expected: Buffer | null,
    value: Buffer,
    deadlineMs: number,
  ): Promise<{ swapped: boolean; revision: number; current: Buffer | null }> {
    return this.call('compareAndSwap', [key, expected, value, deadlineMs]);
  }

  status(): Promise<NodeStatus> {
    return this.call('status', []);
  }

  memberList(deadlineMs: number, opts?: CallOptions): Promise<MemberListResult> {
    return this.call('memberList', [deadlineMs, opts]);
  }

  memberAdd(
    id: string,
    address: string,
    learner: boolean,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<MemberAddResult> {
    return this.call('memberAdd', [id, address, learner, deadlineMs, opts]);
  }

  memberRemove(id: string, deadlineMs: number, opts?: CallOptions): Promise<{ members: MemberStatus[] }> {
    return this.call('memberRemove', [id, deadlineMs, opts]);
  }

  transferLeadership(
    targetId: string,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<{ leaderId: string; term: number }> {
    return this.call('transferLeadership', [targetId, deadlineMs, opts]);
  }

  shutdown(): Promise<{ nodeId: string }> {
    return this.call('shutdown', []);
  }

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
