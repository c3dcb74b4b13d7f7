/**
 * The benchmark's lost-write check against a real three-node dkv cluster
 * (the benchmark's own, real processes and LMDB): puts under load, read back
 * through the leader's listing, lose nothing; and the check catches a key set
 * back to an old value and a deleted key. Also etcd's paging in the read-back,
 * against a stand-in for etcd's range API (etcd itself is not on CI).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { checkWrites } from '../../scripts/bench/cell.js';
import { DkvCluster } from '../../scripts/bench/cluster.js';
import { runLoad } from '../../scripts/bench/load.js';
import { benchKeyIndex, readBack } from '../../scripts/bench/read-back.js';
import { benchKey, Workload } from '../../scripts/bench/workload.js';

const KEYS = 40;
const VALUE_BYTES = 30;

describe('lost-write check on a dkv cluster', () => {
  let cluster: DkvCluster;
  before(async () => {
    cluster = await DkvCluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  test('puts under load lose nothing; a key set back to an old value or deleted is caught', async () => {
    const { result } = await runLoad({
      system: 'dkv',
      protocol: 'http',
      targets: [cluster.leader().restUrl, cluster.followers()[0]!.restUrl],
      op: 'put',
      connections: 8,
      requests: 600,
      keys: KEYS,
      keyOrder: 'sequential',
      valueBytes: VALUE_BYTES,
      ledger: cluster.writes,
    });
    assert.equal(result.errorCount, 0, result.errorSamples.join(' | '));
    assert.equal(cluster.writes.size, 600);

    const clean = await checkWrites(cluster, 1);
    assert.deepEqual(clean, { acked: 600, keys: KEYS, lost: 0, unexplained: 0, samples: [] });

    // Key 0 back to write 1's value: the later acknowledged writes to it (41, 81, ..., 561), sent
    // after write 1 was acknowledged, are lost; 41 was sent after 32 others completed, and at
    // most it may have overtaken write 1. Key 1 deleted: its 15 writes are lost.
    const rest = cluster.leader().restUrl;
    const oldValue = new Workload('dkv', 'put', KEYS, VALUE_BYTES).stampedValue(1);
    const put = await fetch(`${rest}/v0/kv`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: benchKey(0).toString('base64'), value: oldValue.toString('base64') }),
    });
    assert.equal(put.status, 200, await put.text());
    const del = await fetch(`${rest}/v0/kv/key/${benchKey(1).toString('base64url')}`, { method: 'DELETE' });
    assert.equal(del.status, 200, await del.text());

    const broken = await checkWrites(cluster, 1);
    assert.equal(broken.acked, 600);
    assert.equal(broken.unexplained, 1, 'the deleted key');
    assert.ok(
      broken.lost >= 13 + 15 && broken.lost <= 14 + 15,
      `${broken.lost} ${JSON.stringify(broken.samples)}`,
    );
    assert.ok(broken.samples.includes('key 1: missing'), JSON.stringify(broken.samples));
    assert.ok(
      broken.samples.some((s) => /^write \d+ \(key 0\) acknowledged, but the key holds/.test(s)),
      JSON.stringify(broken.samples),
    );
    // Later writes only: the check judges from a write number on.
    assert.equal((await checkWrites(cluster, 600)).lost, 0, 'write 600 is key 39, untouched');
  });
});

describe('read-back', () => {
  test('benchmark keys and only they have an index', () => {
    assert.equal(benchKeyIndex(benchKey(42)), 42);
    assert.equal(benchKeyIndex(Buffer.from('bench-0000004')), null);
    assert.equal(benchKeyIndex(Buffer.from('other-00000042')), null);
    assert.equal(benchKeyIndex(Buffer.from('bench-0000004x')), null);
  });

  test("etcd's range is read a page at a time from the key after the last one", async () => {
    // A stand-in for etcd's /v3/kv/range: keys in byte order, `limit`, `more`, range_end exclusive.
    const stored = new Map<string, string>();
    for (let i = 0; i < 2500; i++) stored.set(benchKey(i).toString('latin1'), `v${i}`);
    stored.set('bench.', 'outside the range');
    stored.set('bencg-', 'outside too');
    const sorted = [...stored.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const asked: { key: string; limit: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        const r = JSON.parse(body) as { key: string; range_end: string; limit: number };
        const from = Buffer.from(r.key, 'base64');
        const end = Buffer.from(r.range_end, 'base64');
        asked.push({ key: from.toString('latin1'), limit: r.limit });
        const inRange = sorted.filter((k) => {
          const b = Buffer.from(k, 'latin1');
          return Buffer.compare(b, from) >= 0 && Buffer.compare(b, end) < 0;
        });
        const page = inRange.slice(0, r.limit);
        const kvs = page.map((k) => ({
          key: Buffer.from(k, 'latin1').toString('base64'),
          value: Buffer.from(stored.get(k)!).toString('base64'),
        }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            header: {},
            kvs,
            more: inRange.length > page.length,
            count: String(inRange.length),
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const values = await readBack('etcd', url);
      assert.equal(values.size, 2500);
      assert.equal(values.get(0)?.toString(), 'v0');
      assert.equal(values.get(2499)?.toString(), 'v2499');
      assert.deepEqual(
        asked.map((a) => a.key),
        ['bench-', `${benchKey(999).toString('latin1')}\0`, `${benchKey(1999).toString('latin1')}\0`],
      );
    } finally {
      server.close();
    }
  });
});
