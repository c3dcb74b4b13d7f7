import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { parsePromText, value } from '../../scripts/prom-text.js';
import { COMPACT_STEP_ENTRIES } from '../../src/node/raft-node.js';
import { b64, TestCluster as Cluster, sleep, type TestCluster, type TestNode } from './harness.js';

/** A hash of every key and value a node holds (serializable reads, paged). */
async function contentHash(c: TestCluster, n: TestNode): Promise<{ hash: string; keys: number }> {
  const h = createHash('sha256');
  let token = '';
  let keys = 0;
  for (;;) {
    const r = await c.rest(
      n,
      'GET',
      `/v0/kv?limit=1000&consistency=SERIALIZABLE${token ? `&pageToken=${token}` : ''}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const kv of r.body.kvs as { key: string; value: string }[]) {
      h.update(`${kv.key}=${kv.value};`);
      keys++;
    }
    token = String(r.body.nextPageToken ?? '');
    if (token === '') break;
  }
  return { hash: h.digest('hex'), keys };
}

/** Write keys `${prefix}0..n-1` through `via`, `parallel` at a time; returns those acknowledged. */
async function writeMany(
  c: TestCluster,
  via: TestNode[],
  prefix: string,
  n: number,
  parallel = 16,
): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async (_, w) => {
      while (next < n) {
        const i = next++;
        const r = await c.put(via[(i + w) % via.length]!, `${prefix}${i}`, `v${i}`).catch(() => null);
        if (r?.status === 200) acked.push(`${prefix}${i}`);
      }
    }),
  );
  return acked;
}

describe('faults on a cluster of real processes', () => {
  test('a follower down past the snapshot threshold comes back through InstallSnapshot; contents identical', async () => {
    const c = await Cluster.start({
      env: { DKV_SNAPSHOT_THRESHOLD: '50', DKV_COMPACT_KEEP_ENTRIES: '5', DKV_LOG_LEVEL: 'info' },
    });
    try {
      const leader = await c.waitForLeader();
      const follower = c.nodes.find((n) => n !== leader)!;
      await c.kill(follower, 'SIGKILL');
      const live = c.nodes.filter((n) => n !== follower);
      const acked = await writeMany(c, live, 'snap-', 400);
      assert.equal(acked.length, 400);
      c.spawn(follower);
      await c.until('the restarted follower to hold every key', async () => {
        const got = await c.get(follower, 'snap-399', 'SERIALIZABLE');
        return got.value === 'v399';
      });
      const hashes = await Promise.all(c.nodes.map((n) => contentHash(c, n)));
      await c.until('all three nodes to hold identical contents', async () => {
        const hs = await Promise.all(c.nodes.map((n) => contentHash(c, n)));
        return hs.every((h) => h.hash === hs[0]!.hash);
      });
      assert.ok(hashes[0]!.keys >= 400);
      const log = follower.output.join('');
      assert.match(log, /installed a snapshot from the leader/, 'the follower caught up by InstallSnapshot');
      assert.doesNotMatch(log, /"level":(50|60)/, 'the follower logged no errors');
    } finally {
      await c.stop();
    }
  });

  test('compaction past one step reaches its target on every node, one step at a time', async () => {
    // Past the threshold the log is compacted to KEEP entries behind the applied index, in steps of
    // COMPACT_STEP_ENTRIES: with a threshold of 1.5 steps, only a second step reaches the target.
    const threshold = Math.round(COMPACT_STEP_ENTRIES * 1.5);
    const keep = 5;
    const c = await Cluster.start({
      env: { DKV_SNAPSHOT_THRESHOLD: String(threshold), DKV_COMPACT_KEEP_ENTRIES: String(keep) },
    });
    const gauges = async (n: TestNode) => {
      const res = await fetch(`http://127.0.0.1:${n.restPort}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      const f = parsePromText(await res.text());
      return { first: value(f, 'dkv_raft_first_log_index'), applied: value(f, 'dkv_raft_applied_index') };
    };
    try {
      await c.waitForLeader();
      for (const n of c.nodes) assert.equal((await gauges(n)).first, 1, 'nothing compacted yet');
      const acked = await writeMany(c, c.nodes, 'step-', threshold + 100);
      assert.equal(acked.length, threshold + 100);
      await c.until('every node to compact its log past the first step', async () => {
        const gs = await Promise.all(c.nodes.map(gauges));
        return gs.every((g) => g.first > COMPACT_STEP_ENTRIES + 1);
      });
      for (const n of c.nodes) {
        const g = await gauges(n);
        // The target was the applied index when the log crossed the threshold, less KEEP.
        assert.ok(g.first >= threshold - keep, `${n.id}: log starts at ${g.first}`);
        assert.ok(g.first <= g.applied - keep + 1, `${n.id}: keeps ${keep} entries behind ${g.applied}`);
        const got = await c.get(n, 'step-0', 'SERIALIZABLE');
        assert.equal(got.value, 'v0', `${n.id}: compaction lost no state`);
      }
    } finally {
      await c.stop();
    }
  });

  test('kill -9 of all three nodes during a stream of writes: every acknowledged write survives', async () => {
    const c = await Cluster.start();
    try {
      await c.waitForLeader();
      const acked: string[] = [];
      let stop = false;
      let attempted = 0;
      const writers = Array.from({ length: 8 }, async (_, w) => {
        let i = 0;
        while (!stop) {
          const key = `crash-${w}-${i++}`;
          attempted++;
          const r = await c.put(c.nodes[(w + i) % 3]!, key, key).catch(() => null);
          if (r?.status === 200) acked.push(key);
        }
      });
      await sleep(1500);
      await Promise.all(c.nodes.map((n) => c.kill(n, 'SIGKILL')));
      stop = true;
      await Promise.all(writers);
      for (const n of c.nodes) c.spawn(n);
      const leader = await c.waitForLeader();
      let missing = 0;
      for (const key of acked) {
        const got = await c.get(leader, key);
        if (got.value !== key) missing++;
      }
      console.log(
        `# kill -9 of all nodes: ${attempted} writes attempted, ${acked.length} acknowledged, ${missing} missing after restart`,
      );
      assert.ok(acked.length > 50, `only ${acked.length} writes were acknowledged before the crash`);
      assert.equal(missing, 0);
    } finally {
      await c.stop();
    }
  });

  test('SIGSTOP of the leader past the election timeout, then SIGCONT: it steps down, nothing acknowledged is lost', async () => {
    const c = await Cluster.start();
    try {
      const old = await c.waitForLeader();
      const before = await c.put(old, 'paused-before', '1');
      assert.equal(before.status, 200);
      await c.kill(old, 'SIGSTOP');
      const others = c.nodes.filter((n) => n !== old);
      const fresh = await c.waitForLeader(others);
      const during = await c.put(others[0]!, 'paused-during', '2');
      assert.equal(during.status, 200, JSON.stringify(during.body));
      await c.kill(old, 'SIGCONT');
      await c.until(`${old.id} to follow ${fresh.id}`, async () => {
        const st = await c.status(old);
        return st?.role !== 'LEADER' && st?.leaderId === fresh.id;
      });
      for (const n of c.nodes) {
        assert.equal((await c.get(n, 'paused-before')).value, '1', `${n.id} paused-before`);
        assert.equal((await c.get(n, 'paused-during')).value, '2', `${n.id} paused-during`);
      }
    } finally {
      await c.stop();
    }
  });

  test('an isolated leader answers linearizable reads and writes with 503 in time; the majority keeps serving', async () => {
    const c = await Cluster.start({ env: { DKV_REQUEST_TIMEOUT_MS: '1500' } });
    try {
      const old = await c.waitForLeader();
      assert.equal((await c.put(old, 'split', 'before')).status, 200);
      c.isolate(old.id);
      const others = c.nodes.filter((n) => n !== old);
      const fresh = await c.waitForLeader(others);
      assert.equal((await c.put(fresh, 'split', 'after')).status, 200);
      // The minority side: never the stale value, never a hang.
      const t0 = Date.now();
      const read = await c.rest(old, 'GET', `/v0/kv/key/${Buffer.from('split').toString('base64url')}`);
      const readMs = Date.now() - t0;
      assert.equal(read.status, 503, JSON.stringify(read.body));
      assert.equal(read.body.code, 14);
      assert.ok(readMs < 5000, `read answered after ${readMs} ms`);
      const t1 = Date.now();
      const write = await c.rest(old, 'POST', '/v0/kv', { key: b64('split'), value: b64('minority') });
      assert.equal(write.status, 503, JSON.stringify(write.body));
      assert.ok(Date.now() - t1 < 5000);
      // The majority side still serves, and the minority's write never took effect.
      for (const n of others) assert.equal((await c.get(n, 'split')).value, 'after');
      c.isolate(old.id, false);
      await c.until(`${old.id} to rejoin`, async () => (await c.get(old, 'split')).value === 'after');
    } finally {
      await c.stop();
    }
  });
});
