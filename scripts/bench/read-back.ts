/**
 * Reading the benchmark's keyspace back after a load, for the lost-write check
 * (write-ledger.ts): every `bench-` key and its value, through a node's REST
 * API with each system's linearizable listing, a page at a time.
 *
 * dkv: `GET /v0/kv?prefix=<b64>&limit=1000&pageToken=...` (its Range).
 * etcd: `POST /v3/kv/range {"key","range_end","limit"}` from the key after
 * the previous page's last. Each page is a linearizable read that starts
 * after the load ended, so it sees every write acknowledged before.
 */
import type { System } from './workload.js';

/** Every benchmark key starts with this. */
const PREFIX = Buffer.from('bench-');
/** Most keys per page (dkv's largest page). */
const MAX_PAGE = 1000;
/** About the most bytes of JSON a page should carry. */
const PAGE_BYTES = 4_000_000;
/** One page's deadline. */
const PAGE_TIMEOUT_MS = 30_000;

/** The index of a benchmark key (`bench-00000042` is 42), or null for any other key. */
export function benchKeyIndex(key: Buffer): number | null {
  if (key.length !== PREFIX.length + 8 || !key.subarray(0, PREFIX.length).equals(PREFIX)) return null;
  const digits = key.toString('latin1', PREFIX.length);
  return /^\d{8}$/.test(digits) ? Number(digits) : null;
}

/**
 * Each benchmark key's value (by key index) as the node at `restUrl` reads it, linearizably;
 * `valueBytes` sizes the pages.
 */
export async function readBack(
  system: System,
  restUrl: string,
  valueBytes: number,
): Promise<Map<number, Buffer>> {
  const page = Math.max(1, Math.min(MAX_PAGE, Math.floor(PAGE_BYTES / ((valueBytes * 4) / 3 + 100))));
  const values = new Map<number, Buffer>();
  const add = (kvs: { key?: string; value?: string }[] | undefined) => {
    for (const kv of kvs ?? []) {
      const index = benchKeyIndex(Buffer.from(kv.key ?? '', 'base64'));
      // An empty value is left out of etcd's JSON (proto3 JSON); dkv writes it as "".
      if (index !== null) values.set(index, Buffer.from(kv.value ?? '', 'base64'));
    }
  };
  if (system === 'dkv') {
    let token = '';
    do {
      const query = `prefix=${encodeURIComponent(PREFIX.toString('base64'))}&limit=${page}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const reply = (await fetchJson(`${restUrl}/v0/kv?${query}`, { method: 'GET' })) as {
        kvs?: { key?: string; value?: string }[];
        nextPageToken?: string;
      };
      add(reply.kvs);
      token = reply.nextPageToken ?? '';
    } while (token !== '');
  } else {
    const end = Buffer.from(PREFIX);
    end[end.length - 1]! += 1; // the first key after every `bench-` key
    let from = PREFIX;
    for (;;) {
      const reply = (await fetchJson(`${restUrl}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({
          key: from.toString('base64'),
          range_end: end.toString('base64'),
          limit: page,
        }),
      })) as { kvs?: { key?: string; value?: string }[]; more?: boolean };
      add(reply.kvs);
      const last = reply.kvs?.at(-1)?.key;
      if (!reply.more || last === undefined) break;
      from = Buffer.concat([Buffer.from(last, 'base64'), Buffer.from([0])]);
    }
  }
  return values;
}

async function fetchJson(url: string, init: { method: string; body?: string }): Promise<unknown> {
  const res = await fetch(url, {
    ...init,
    headers: init.body ? { 'content-type': 'application/json' } : {},
    signal: AbortSignal.timeout(PAGE_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`read-back ${init.method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
