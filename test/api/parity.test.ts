/**
 * REST and gRPC are one API: the same scenario run over each, on fresh
 * backends, gives the same results — gRPC responses written as grpc-gateway
 * JSON equal the REST bodies byte for byte, and failures have the same code
 * and message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import {
  encodeCompareAndSwapResponse,
  encodeDeleteResponse,
  encodeGetResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeStatusResponse,
} from '../../src/api/json.js';
import { Consistency } from '../../src/gen/dkv/v0/kvstore.js';
import { MAX_VALUE_BYTES } from '../../src/storage/limits.js';
import { MemoryBackend } from './memory-backend.js';
import { rest, startGrpc, startRest, unary } from './servers.js';

/** One operation's outcome: a grpc-gateway JSON body, or a status code and message. */
type Outcome = string | { code: number; message: string };

/** The API as the scenario drives it. */
interface Api {
  put(key: Buffer, value: Buffer): Promise<Outcome>;
  get(key: Buffer, consistency: Consistency): Promise<Outcome>;
  delete(key: Buffer): Promise<Outcome>;
  range(prefix: Buffer, limit: number, pageToken: string): Promise<Outcome>;
  cas(key: Buffer, expectedValue: Buffer, expectedAbsent: boolean, value: Buffer): Promise<Outcome>;
  status(): Promise<Outcome>;
}

/** A scenario touching every operation, including failures; returns every outcome in order. */
async function scenario(api: Api): Promise<Outcome[]> {
  const b = (text: string) => Buffer.from(text);
  const outcomes: Outcome[] = [];
  const record = async (outcome: Promise<Outcome>) => {
    const value = await outcome;
    outcomes.push(value);
    return value;
  };
  await record(api.put(b('k1'), b('v1')));
  await record(api.put(b('k2'), b('')));
  await record(api.put(Buffer.from([0xfb, 0xff]), Buffer.from([0, 1, 2])));
  await record(api.get(b('k1'), Consistency.LINEARIZABLE));
  await record(api.get(b('k2'), Consistency.SERIALIZABLE));
  await record(api.get(b('missing'), Consistency.LINEARIZABLE));
  await record(api.delete(b('k2')));
  await record(api.delete(b('k2')));
  await record(api.put(b('k3'), b('v3')));
  const first = await record(api.range(b('k'), 1, ''));
  const token = (JSON.parse(first as string) as { nextPageToken: string }).nextPageToken;
  await record(api.range(b('k'), 1, token));
  await record(api.range(b(''), 0, ''));
  await record(api.range(b('zz'), 0, ''));
  await record(api.range(b('k'), 0, 'not a token'));
  await record(api.cas(b('new'), b(''), true, b('n1')));
  await record(api.cas(b('new'), b(''), true, b('n2')));
  await record(api.cas(b('new'), b('n1'), false, b('n3')));
  await record(api.cas(b('gone'), b('x'), false, b('y')));
  await record(api.cas(b('new'), b('n3'), true, b('n4')));
  await record(api.put(b(''), b('v')));
  await record(api.put(b('big'), Buffer.alloc(MAX_VALUE_BYTES + 1)));
  await record(api.status());
  return outcomes;
}

/** The scenario's API over REST. */
function restApi(server: Awaited<ReturnType<typeof startRest>>): Api {
  const call = async (method: string, path: string, body?: object): Promise<Outcome> => {
    const response = await rest(server, method, path, body ? { body: JSON.stringify(body) } : {});
    if (response.status === 200) return response.text;
    const error = response.json as { code: number; message: string };
    return { code: error.code, message: error.message };
  };
  const url = (bytes: Buffer) => bytes.toString('base64url');
  return {
    put: (key, value) =>
      call('POST', '/v0/kv', { key: key.toString('base64'), value: value.toString('base64') }),
    get: (key, consistency) => call('GET', `/v0/kv/key/${url(key)}?consistency=${Consistency[consistency]}`),
    delete: (key) => call('DELETE', `/v0/kv/key/${url(key)}`),
    range: (prefix, limit, pageToken) =>
      call('GET', `/v0/kv?prefix=${url(prefix)}&limit=${limit}&page_token=${encodeURIComponent(pageToken)}`),
    cas: (key, expectedValue, expectedAbsent, value) =>
      call('POST', '/v0/kv/cas', {
        key: key.toString('base64'),
        expectedValue: expectedValue.toString('base64'),
        expectedAbsent,
        value: value.toString('base64'),
      }),
    status: () => call('GET', '/v0/cluster/status'),
  };
}

/** The scenario's API over gRPC, responses written as grpc-gateway JSON. */
function grpcApi(server: Awaited<ReturnType<typeof startGrpc>>): Api {
  const call = async <T>(response: Promise<T>, encode: (m: T) => string): Promise<Outcome> => {
    try {
      return encode(await response);
    } catch (e) {
      const error = e as ServiceError;
      return { code: error.code, message: error.details };
    }
  };
  const { kv, cluster } = server;
  return {
    put: (key, value) => call(unary(kv.put.bind(kv), { key, value }), encodePutResponse),
    get: (key, consistency) => call(unary(kv.get.bind(kv), { key, consistency }), encodeGetResponse),
    delete: (key) => call(unary(kv.delete.bind(kv), { key }), encodeDeleteResponse),
    range: (prefix, limit, pageToken) =>
      call(unary(kv.range.bind(kv), { prefix, limit, pageToken, consistency: 0 }), encodeRangeResponse),
    cas: (key, expectedValue, expectedAbsent, value) =>
      call(
        unary(kv.compareAndSwap.bind(kv), { key, expectedValue, expectedAbsent, value }),
        encodeCompareAndSwapResponse,
      ),
    status: () => call(unary(cluster.status.bind(cluster), {}), encodeStatusResponse),
  };
}

test('the same scenario over REST and over gRPC gives identical results', async () => {
  const restServer = await startRest(new MemoryBackend());
  const grpcServer = await startGrpc(new MemoryBackend());
  try {
    const overRest = await scenario(restApi(restServer));
    const overGrpc = await scenario(grpcApi(grpcServer));
    assert.deepEqual(overGrpc, overRest);
    // The scenario exercised successes and each kind of failure.
    assert.deepEqual(
      overRest.filter((o) => typeof o !== 'string').map((o) => (o as { code: number }).code),
      [5, 3, 3, 3, 3],
    );
    assert.equal(overRest[3], `{"key":"azE=","value":"djE=","revision":"1"}`);
  } finally {
    await restServer.close();
    await grpcServer.close();
  }
});
