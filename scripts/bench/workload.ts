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
 *
 * Every put's value starts with its write's number (write-ledger.ts), so a
 * put's request is its key's memoized request with that number written in:
 * the number is the value's first STAMP_BYTES bytes, a multiple of 3, so its
 * base64 is the first characters of the value's base64 and the rest of the
 * request never changes.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Consistency, type GetRequest, type PutRequest } from '../../src/gen/dkv/v0/kvstore.js';
import { STAMP_BYTES, stampBase64, stampText } from './write-ledger.js';

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
  /** A put's: where in `body` the base64 of its write's number goes (stampHttp); null for a read. */
  stampAt: number | null;
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
  private readonly readCache: (GrpcShape | undefined)[] = [];

  constructor(
    readonly system: System,
    readonly op: Operation,
    readonly keys: number,
    valueBytes: number,
  ) {
    if (op === 'put' && valueBytes < STAMP_BYTES) {
      throw new Error(`values of puts need at least ${STAMP_BYTES} bytes to carry their write's number`);
    }
    this.value = benchValue(valueBytes);
    this.valueB64 = op === 'put' ? this.stampedValue(0).toString('base64') : '';
  }

  /**
   * The HTTP request for key `i`, memoized: a put's value carries write number 0 until
   * stampHttp writes the real one into a copy.
   */
  http(i: number): HttpShape {
    let shape = this.httpCache[i];
    if (!shape) {
      shape = this.buildHttp(benchKey(i));
      this.httpCache[i] = shape;
    }
    return shape;
  }

  /** The gRPC call for key `i` (dkv's KVStore service); a put's value carries write number `seq`. */
  grpc(i: number, seq: number): GrpcShape {
    if (this.op === 'put')
      return { method: 'put', request: { key: benchKey(i), value: this.stampedValue(seq) } };
    let shape = this.readCache[i];
    if (!shape) {
      shape = {
        method: 'get',
        request: {
          key: benchKey(i),
          consistency: this.op === 'get' ? Consistency.LINEARIZABLE : Consistency.SERIALIZABLE,
        },
      };
      this.readCache[i] = shape;
    }
    return shape;
  }

  /** This workload's value with write number `seq` in its first bytes. */
  stampedValue(seq: number): Buffer {
    const v = Buffer.from(this.value);
    v.write(stampText(seq), 0, 'latin1');
    return v;
  }

  private buildHttp(key: Buffer): HttpShape {
    const k = key.toString('base64');
    if (this.system === 'dkv') {
      if (this.op === 'put') return putPost('/v0/kv', `{"key":"${k}","value":"`, `${this.valueB64}"}`);
      const query = this.op === 'get-serializable' ? '?consistency=SERIALIZABLE' : '';
      return {
        method: 'GET',
        path: `/v0/kv/key/${key.toString('base64url')}${query}`,
        headers: {},
        body: null,
        stampAt: null,
      };
    }
    if (this.op === 'put') return putPost('/v3/kv/put', `{"key":"${k}","value":"`, `${this.valueB64}"}`);
    const serializable = this.op === 'get-serializable' ? ',"serializable":true' : '';
    return post('/v3/kv/range', `{"key":"${k}"${serializable}}`, null);
  }
}

/**
 * Copy `request` (a put's bytes, whose value's base64 starts at byte `stampAt`) with write
 * number `seq` written in.
 */
export function stampHttp(request: Buffer, stampAt: number, seq: number): Buffer {
  const copy = Buffer.allocUnsafe(request.length);
  request.copy(copy);
  copy.write(stampBase64(seq), stampAt, 'latin1');
  return copy;
}

/** A put's POST: `before` the value's base64, then the value's base64 (write number 0 first) with `after`. */
function putPost(path: string, before: string, valueAndAfter: string): HttpShape {
  return post(path, before + valueAndAfter, Buffer.byteLength(before));
}

function post(path: string, json: string, stampAt: number | null): HttpShape {
  const body = Buffer.from(json);
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
    stampAt,
  };
}
