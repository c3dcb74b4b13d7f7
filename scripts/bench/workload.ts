/**
 * What the load generator sends: the benchmark's keys and value, and for
 * each system (dkv or etcd) and operation the exact HTTP request or gRPC
 * message, built once per key and reused so that generating load costs no
 * JSON or base64 work on the hot path.
 *
 * dkv: put is `POST /v0/kv {"key","value"}`, get is `GET /v0/kv/key/<b64url>`
 * (`?consistency=SERIALIZABLE` for a serializable read). etcd, through its
 * grpc-gateway: put is `POST /v3/kv/put {"key","value"}`, get is
 * `POST /v3/kv/range {"key"}` (`"serializable": true` for a serializable
 * read). Keys and values are base64 in both JSON shapes.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Consistency, type GetRequest, type PutRequest } from '../../src/gen/dkv/v0/kvstore.js';

/** The system under load; it decides the request shapes. */
export type System = 'dkv' | 'etcd';

/** A benchmark operation. `get` is linearizable. */
export type Operation = 'put' | 'get' | 'get-serializable';

/** One HTTP request, ready to send. */
export interface HttpShape {
  method: 'GET' | 'POST';
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | null;
}

/** One gRPC call, ready to send (dkv only). */
export type GrpcShape = { method: 'put'; request: PutRequest } | { method: 'get'; request: GetRequest };

/** The key of index `i`: `bench-` and 8 digits, so every key has the same length. */
export function benchKey(i: number): Buffer {
  return Buffer.from(`bench-${String(i).padStart(8, '0')}`);
}

/** A value of `bytes` bytes with a fixed, printable pattern. */
export function benchValue(bytes: number): Buffer {
  const v = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) v[i] = 0x61 + (i % 26);
  return v;
}

/** Request shapes for one system and operation over a keyspace of `keys` keys, memoized per key. */
export class Workload {
  private readonly value: Buffer;
  private readonly valueB64: string;
  private readonly httpCache: (HttpShape | undefined)[] = [];
  private readonly grpcCache: (GrpcShape | undefined)[] = [];

  constructor(
    readonly system: System,
    readonly op: Operation,
    readonly keys: number,
    valueBytes: number,
  ) {
    this.value = benchValue(valueBytes);
    this.valueB64 = this.value.toString('base64');
  }

  /** The HTTP request for key `i`. */
  http(i: number): HttpShape {
    let shape = this.httpCache[i];
    if (!shape) {
      shape = this.buildHttp(benchKey(i));
      this.httpCache[i] = shape;
    }
    return shape;
  }

  /** The gRPC call for key `i` (dkv's KVStore service). */
  grpc(i: number): GrpcShape {
    let shape = this.grpcCache[i];
    if (!shape) {
      const key = benchKey(i);
      shape =
        this.op === 'put'
          ? { method: 'put', request: { key, value: this.value } }
          : {
              method: 'get',
              request: {
                key,
                consistency: this.op === 'get' ? Consistency.LINEARIZABLE : Consistency.SERIALIZABLE,
              },
            };
      this.grpcCache[i] = shape;
    }
    return shape;
  }

  private buildHttp(key: Buffer): HttpShape {
    const k = key.toString('base64');
    if (this.system === 'dkv') {
      if (this.op === 'put') return post('/v0/kv', `{"key":"${k}","value":"${this.valueB64}"}`);
      const query = this.op === 'get-serializable' ? '?consistency=SERIALIZABLE' : '';
      return {
        method: 'GET',
        path: `/v0/kv/key/${key.toString('base64url')}${query}`,
        headers: {},
        body: null,
      };
    }
    if (this.op === 'put') return post('/v3/kv/put', `{"key":"${k}","value":"${this.valueB64}"}`);
    const serializable = this.op === 'get-serializable' ? ',"serializable":true' : '';
    return post('/v3/kv/range', `{"key":"${k}"${serializable}}`);
  }
}

function post(path: string, json: string): HttpShape {
  const body = Buffer.from(json);
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  };
}
