/**
 * The key-value calls the commands and the shell share: each runs one RPC
 * (or, for list, one per page) through the failover client.
 */
import {
  type CompareAndSwapResponse,
  Consistency,
  type DeleteResponse,
  type GetResponse,
  type KeyValue,
  type PutResponse,
  type RangeResponse,
} from '../gen/dkv/v0/kvstore.js';
import { showBytes } from './bytes-arg.js';
import type { Answer, DkvClient } from './client.js';
import { CliError, ExitCode } from './exit-codes.js';

/** Put one key (idempotent: the same put twice leaves the same state). */
export function putKey(client: DkvClient, key: Buffer, value: Buffer): Promise<Answer<PutResponse>> {
  return client.call('put', { idempotent: true }, (c, md, opts, cb) =>
    c.kv.put({ key, value }, md, opts, cb),
  );
}

/**
 * Get one key; a missing key fails with exit 3 and a message naming the key as the user wrote it
 * (the server names it in base64, which is not what someone who typed `get hello` wants to read).
 */
export async function getKey(
  client: DkvClient,
  key: Buffer,
  serializable: boolean,
  base64: boolean,
): Promise<Answer<GetResponse>> {
  const consistency = serializable ? Consistency.SERIALIZABLE : Consistency.LINEARIZABLE;
  try {
    return await client.call('get', { idempotent: true }, (c, md, opts, cb) =>
      c.kv.get({ key, consistency }, md, opts, cb),
    );
  } catch (e) {
    if (e instanceof CliError && e.exitCode === ExitCode.NotFound) {
      // Keep where the answer came from: "(NOT_FOUND from host:port)".
      const from = / \([A-Z_]+ from [^)]*\)$/.exec(e.message)?.[0] ?? '';
      throw new CliError(ExitCode.NotFound, `get: key not found: ${showBytes(key, base64)}${from}`);
    }
    throw e;
  }
}

/** Delete one key (retried on another endpoint only if the first could not be reached: a retry would report deleted=false). */
export function deleteKey(client: DkvClient, key: Buffer): Promise<Answer<DeleteResponse>> {
  return client.call('del', { idempotent: false }, (c, md, opts, cb) => c.kv.delete({ key }, md, opts, cb));
}

/** Compare-and-swap: never retried after the call reached a node, since it may have swapped. */
export function casKey(
  client: DkvClient,
  key: Buffer,
  expected: Buffer,
  expectedAbsent: boolean,
  value: Buffer,
): Promise<Answer<CompareAndSwapResponse>> {
  return client.call('cas', { idempotent: false }, (c, md, opts, cb) =>
    c.kv.compareAndSwap({ key, expectedValue: expected, expectedAbsent, value }, md, opts, cb),
  );
}

/**
 * List the keys under `prefix`, following pages until the end or until
 * `limit` pairs (0: no limit). Returns one RangeResponse holding every pair;
 * its nextPageToken continues after the last pair returned, or is empty.
 */
export async function listKeys(
  client: DkvClient,
  prefix: Buffer,
  limit: number,
  onPage?: (count: number) => void,
): Promise<RangeResponse> {
  const kvs: KeyValue[] = [];
  let pageToken = '';
  let revision = '0';
  for (;;) {
    const want = limit > 0 ? limit - kvs.length : 0;
    const page = await client.call<RangeResponse>('list', { idempotent: true }, (c, md, opts, cb) =>
      c.kv.range({ prefix, limit: want, pageToken, consistency: Consistency.LINEARIZABLE }, md, opts, cb),
    );
    kvs.push(...page.value.kvs);
    revision = page.value.revision;
    pageToken = page.value.nextPageToken;
    onPage?.(kvs.length);
    if (pageToken === '' || (limit > 0 && kvs.length >= limit)) break;
  }
  return { kvs, nextPageToken: pageToken, revision };
}
