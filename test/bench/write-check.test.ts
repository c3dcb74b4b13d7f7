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
    // Two loads of 600 puts over 40 keys in order, to the leader and to a follower (which
    // forwards): each key gets 15 writes in each load.
    const load = () =>
      runLoad({
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
    for (let i = 0; i < 2; i++) {
      const { result } = await load();
      assert.equal(result.errorCount, 0, result.errorSamples.join(' | '));
    }
    assert.equal(cluster.writes.size, 1200);

    const clean = await checkWrites(cluster, VALUE_BYTES);
    assert.deepEqual(clean, { acked: 1200, keys: KEYS, lost: 0, unexplained: 0, samples: [], failed: null });

    // Key 0 back to write 561, its last in the first load, acknowledged before the second load
    // began: the second load's 15 writes to it are lost. Key 1 deleted: all its 30 writes are.
    const rest = cluster.leader().restUrl;
    const oldValue = new Workload('dkv', 'put', KEYS, VALUE_BYTES).stampedValue(561);
    const put = await fetch(`${rest}/v0/kv`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: benchKey(0).toString('base64'), value: oldValue.toString('base64') }),
    });
    assert.equal(put.status, 200, await put.text());
    const del = await fetch(`${rest}/v0/kv/key/${benchKey(1).toString('base64url')}`, { method: 'DELETE' });
    assert.equal(del.status, 200, await del.text());

    const broken = await checkWrites(cluster, VALUE_BYTES);
    assert.equal(broken.acked, 1200);
    assert.equal(broken.unexplained, 1, 'the deleted key');
    assert.equal(broken.lost, 15 + 30, JSON.stringify(broken.samples));
    assert.equal(cluster.writes.lostEver, 45);
    assert.ok(broken.samples.includes('key 1: missing'), JSON.stringify(broken.samples));
    assert.ok(
      broken.samples.includes(
        'write 601 (key 0) acknowledged, but the key holds a write acknowledged before it was sent',
      ),
      JSON.stringify(broken.samples),
    );
  });

  test('a read-back that keeps failing is a failed check, not a crash', async () => {
    const unreachable = Object.create(cluster, {
      leader: { value: () => ({ ...cluster.leader(), restUrl: 'http://127.0.0.1:1' }) },
    }) as DkvCluster;
    const check = await checkWrites(unreachable, VALUE_BYTES);
    assert.match(check.failed ?? '', /^no read-back in 3 tries: /);
    assert.equal(check.keys, 0);
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
    for (let i = 0; i < 2500; i++) stored.set(benchKey(i).toString('latin1'), i === 7 ? '' : `v${i}`);
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
        // proto3 JSON as etcd's gateway writes it: an empty value and a false `more` are left out.
        const kvs = page.map((k) => ({
          key: Buffer.from(k, 'latin1').toString('base64'),
          ...(stored.get(k) ? { value: Buffer.from(stored.get(k)!).toString('base64') } : {}),
        }));
        const more = inRange.length > page.length ? { more: true } : {};
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ header: {}, kvs, ...more, count: String(inRange.length) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const values = await readBack('etcd', url, 100);
      assert.equal(values.size, 2500);
      assert.equal(values.get(0)?.toString(), 'v0');
      assert.equal(values.get(7)?.length, 0, 'an empty value is there, empty');
      assert.equal(values.get(2499)?.toString(), 'v2499');
      assert.deepEqual(
        asked.map((a) => a.key),
        ['bench-', `${benchKey(999).toString('latin1')}\0`, `${benchKey(1999).toString('latin1')}\0`],
      );
      assert.deepEqual(
        asked.map((a) => a.limit),
        [1000, 1000, 1000],
      );
      // Large values make smaller pages.
      asked.length = 0;
      assert.equal((await readBack('etcd', url, 100_000)).size, 2500);
      assert.equal(asked[0]?.limit, 29);
    } finally {
      server.close();
    }
  });
});
