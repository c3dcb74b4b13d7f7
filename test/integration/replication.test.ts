import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from './harness.js';

// Three real dkv processes on loopback, driven over REST.
describe('a three-node cluster of real processes', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
  });
  after(async () => {
    await c?.stop();
  });

  test('the original dkv curl works: form-urlencoded body, success message, revision', async () => {
    const a = c.node('a');
    const res = await fetch(`http://127.0.0.1:${a.restPort}/v0/kv`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"key":"aGVsbG8=","value":"d29ybGQ="}',
    });
    const body = (await res.json()) as { message: string; revision: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.message, 'success');
    assert.match(body.revision, /^[1-9][0-9]*$/);
    const got = await c.rest(c.node('c'), 'GET', '/v0/kv/key/aGVsbG8=');
    assert.equal(got.status, 200);
    assert.equal(got.body.value, 'd29ybGQ=');
  });

  test('a write through any node is readable from every node, linearizably', async () => {
    for (const writer of c.nodes) {
      const key = `from-${writer.id}`;
      const put = await c.put(writer, key, `value written via ${writer.id}`);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      // A linearizable read anywhere right after the acknowledgement must see it.
      for (const reader of c.nodes) {
        const got = await c.get(reader, key);
        assert.equal(got.value, `value written via ${writer.id}`, `${reader.id} reading ${key}`);
      }
    }
  });

  test('serializable reads converge on every node', async () => {
    const put = await c.put(c.node('b'), 'converge', 'yes');
    assert.equal(put.status, 200);
    await c.until('serializable reads to converge', async () => {
      const vals = await Promise.all(c.nodes.map((n) => c.get(n, 'converge', 'SERIALIZABLE')));
      return vals.every((v) => v.value === 'yes');
    });
  });

  test('status names one leader, the term, and every member', async () => {
    const leader = await c.waitForLeader();
    for (const n of c.nodes) {
      const st = await c.status(n);
      assert.ok(st, `status of ${n.id}`);
      assert.equal(st.nodeId, n.id);
      assert.equal(st.leaderId, leader.id);
      assert.ok(Number(st.term) >= 2, `term ${st.term}`);
      const members = (st.members as { id: string }[]).map((m) => m.id).sort();
      assert.deepEqual(members, ['a', 'b', 'c']);
    }
  });

  test('kill -9 of the leader: a new leader is elected, writes continue, the old leader catches up', async () => {
    const old = await c.waitForLeader();
    const before = await c.put(old, 'before-crash', '1');
    assert.equal(before.status, 200);
    const t0 = Date.now();
    await c.kill(old, 'SIGKILL');
    const survivors = c.nodes.filter((n) => n !== old);
    const fresh = await c.waitForLeader(survivors);
    assert.notEqual(fresh.id, old.id);
    let wrote = false;
    while (!wrote && Date.now() - t0 < 20000) {
      const r = await c.put(survivors[0]!, 'after-crash', '2').catch(() => null);
      wrote = r?.status === 200;
    }
    assert.ok(wrote, 'a write after the crash succeeded');
    console.log(
      `# leader ${old.id} killed: new leader ${fresh.id}, writes accepted again after ${Date.now() - t0} ms`,
    );
    c.spawn(old);
    await c.until(`${old.id} to catch up`, async () => {
      const [x, y] = await Promise.all([
        c.get(old, 'after-crash', 'SERIALIZABLE'),
        c.get(old, 'before-crash', 'SERIALIZABLE'),
      ]);
      return x.value === '2' && y.value === '1';
    });
  });
});

describe('shutdown', () => {
  test('SIGTERM stops a node cleanly (exit 0) and it restarts with its data', async () => {
    const c = await TestCluster.start();
    try {
      await c.waitForLeader();
      const a = c.node('a');
      assert.equal((await c.put(a, 'kept', 'yes')).status, 200);
      const t0 = Date.now();
      const code = await c.kill(a, 'SIGTERM');
      assert.equal(code, 0, a.output.join(''));
      console.log(`# SIGTERM: node a exited cleanly in ${Date.now() - t0} ms`);
      c.spawn(a);
      await c.until(
        'node a to serve its data again',
        async () => (await c.get(a, 'kept', 'SERIALIZABLE')).value === 'yes',
      );
    } finally {
      await c.stop();
    }
  });
});

describe("the leader's status across check-quorum rounds", () => {
  let c: TestCluster;
  before(async () => {
    // Heartbeats every 3 ticks, check-quorum every 10: the check falls between heartbeats, so the
    // core's activity flags stay cleared for up to 2 ticks (100 ms) of every 500 ms.
    c = await TestCluster.start({ env: { DKV_HEARTBEAT_TICKS: '3' } });
    await c.waitForLeader();
  });
  after(async () => {
    await c?.stop();
  });

  test('shows its followers reachable at every moment', async () => {
    const leader = await c.waitForLeader();
    // A follower may know the new leader before the leader has its answer: start from a leader that has heard from all.
    await c.until('the leader to hear from every follower', async () => {
      const members = (await c.status(leader))?.members as { reachable: boolean }[] | undefined;
      return members?.every((m) => m.reachable) ?? false;
    });
    for (let i = 0; i < 25; i++) {
      const st = await c.status(leader);
      const members = st?.members as { id: string; reachable: boolean }[];
      for (const m of members) assert.equal(m.reachable, true, `poll ${i}: ${m.id} shown unreachable`);
      await new Promise((r) => setTimeout(r, 60));
    }
  });
});
