/**
 * Membership at run time on real dkv processes: a node joins with only
 * DKV_JOIN, is promoted once caught up, the leader is removed after handing
 * leadership over, the removed node stays quiet, and every node shuts down
 * through the Shutdown RPC and the `dkv shutdown` command. Then: data survives a sequence of adds, removes
 * and a restart; a node joining after compaction gets a snapshot.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ClusterServiceClient } from '../../src/gen/dkv/v0/cluster.js';
import { unary } from '../api/servers.js';
import { dkv } from '../cli/run-dkv.js';
import { b64, type TestCluster as Cluster, sleep, TestCluster, type TestNode } from './harness.js';

type Member = { id: string; address: string; learner: boolean };

/** The member ids (sorted) and voter flags in a status or member list body. */
function memberIds(body: Record<string, unknown> | null): string[] {
  return ((body?.members as Member[] | undefined) ?? []).map((m) => m.id).sort();
}

function isVoter(body: Record<string, unknown> | null, id: string): boolean {
  return ((body?.members as Member[] | undefined) ?? []).some((m) => m.id === id && !m.learner);
}

/** Wait until `n` serves `key` = `value` with both consistencies. */
async function untilServes(c: Cluster, n: TestNode, key: string, value: string): Promise<void> {
  await c.until(`${n.id} serves ${key}`, async () => {
    const s = await c.get(n, key, 'SERIALIZABLE');
    const l = await c.get(n, key, 'LINEARIZABLE');
    return s.value === value && l.value === value;
  });
}

describe('membership at run time (acceptance scenario)', () => {
  let c: TestCluster;
  after(async () => c?.stop());

  test('join with DKV_JOIN, promote, remove the leader, removed node stays quiet, shut down by RPC and CLI', async () => {
    c = await TestCluster.start();
    const [a, b, nodeC] = [c.node('a'), c.node('b'), c.node('c')];
    await c.waitForLeader();

    // Set through node 1, get through node 2.
    assert.equal((await c.put(a, 'greeting', 'hello')).status, 200);
    assert.deepEqual(await c.get(b, 'greeting'), { status: 200, value: 'hello' });

    // A 4th node with only DKV_JOIN pointing at node 3 serves the key, then becomes a voter.
    const d = await c.addJoiner('d', nodeC);
    assert.equal(d.env.DKV_CLUSTER, undefined);
    await untilServes(c, d, 'greeting', 'hello');
    await c.until('d promoted to voter', async () => {
      const leader = await c.waitForLeader([a, b, nodeC, d]);
      return isVoter(await c.status(leader), 'd') && (await c.status(d))?.role !== 'LEARNER';
    });
    const list = await c.rest(d, 'GET', '/v0/cluster/members');
    assert.equal(list.status, 200);
    assert.deepEqual(memberIds(list.body), ['a', 'b', 'c', 'd']);

    // Make node 1 the leader (asked through another node), so removing it removes the leader.
    const transfer = await c.rest(b, 'POST', '/v0/cluster/leader', { targetId: 'a' });
    assert.equal(transfer.status, 200, JSON.stringify(transfer.body));
    assert.equal(transfer.body.leaderId, 'a');
    assert.match(String(transfer.body.term), /^[0-9]+$/);
    assert.equal((await c.waitForLeader([a, b, nodeC, d])).id, 'a');

    const removal = await c.rest(a, 'DELETE', '/v0/cluster/members/a');
    assert.equal(removal.status, 200, JSON.stringify(removal.body));
    assert.deepEqual(memberIds(removal.body), ['b', 'c', 'd']);
    const rest3 = [b, nodeC, d];
    const leader = await c.waitForLeader(rest3);
    assert.notEqual(leader.id, 'a');

    // Writes continue, through any remaining node.
    assert.equal((await c.put(d, 'after', 'removal')).status, 200);
    assert.deepEqual(await c.get(b, 'after'), { status: 200, value: 'removal' });
    assert.deepEqual(await c.get(nodeC, 'greeting'), { status: 200, value: 'hello' });

    // Status on every remaining node shows the new membership.
    await c.until('every remaining node shows b, c, d', async () => {
      for (const n of rest3) if (memberIds(await c.status(n)).join() !== 'b,c,d') return false;
      return true;
    });
    // The removed node, still running, knows it (it applied its removal or the leader told it).
    await c.until('a knows it was removed', async () => !memberIds(await c.status(a)).includes('a'), 20000);
    assert.ok(a.proc && a.proc.exitCode === null, 'node a keeps running');

    // It does not disturb: terms stay put for several election timeouts (10 ticks of 50 ms).
    const terms = async () => Promise.all(rest3.map(async (n) => String((await c.status(n))?.term)));
    const before = await terms();
    await sleep(2500);
    assert.deepEqual(await terms(), before, 'a removed node must not raise the others terms');
    assert.equal((await c.waitForLeader(rest3)).id, leader.id);

    // Shut every node down: the removed a through REST's Shutdown route, the members with the
    // `dkv shutdown` command line (as an operator would), the last through gRPC. Each answers,
    // then exits 0.
    const r = await c.rest(a, 'POST', '/v0/cluster/shutdown', {});
    assert.equal(r.status, 200, `a: ${JSON.stringify(r.body)}`);
    assert.deepEqual(r.body, { nodeId: 'a' });
    assert.equal(await c.exited(a), 0, 'a exits 0');
    for (const n of [b, nodeC]) {
      const run = await dkv(['shutdown', '--endpoint', `127.0.0.1:${n.rpcPort}`]);
      assert.equal(run.code, 0, `dkv shutdown ${n.id}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`\\b${n.id}\\b`));
      assert.equal(await c.exited(n), 0, `${n.id} exits 0`);
    }
    const client = new ClusterServiceClient(`127.0.0.1:${d.rpcPort}`, grpc.credentials.createInsecure());
    try {
      assert.deepEqual(await unary(client.shutdown.bind(client), {}), { nodeId: 'd' });
    } finally {
      client.close();
    }
    assert.equal(await c.exited(d), 0, 'd exits 0');
  });
});

describe('membership changes keep the data', () => {
  let c: TestCluster;
  after(async () => c?.stop());

  test('error answers: unknown id 404, invalid id 400, same id with another address 400 code 9', async () => {
    c = await TestCluster.start();
    const a = c.node('a');
    await c.waitForLeader();
    const unknown = await c.rest(a, 'DELETE', '/v0/cluster/members/nobody');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 5);
    assert.match(String(unknown.body.message), /nobody is not a member/);

    const invalid = await c.rest(a, 'POST', '/v0/cluster/members', {
      id: 'no spaces',
      address: '127.0.0.1:1',
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.code, 3);
    assert.match(String(invalid.body.message), /not a valid node id/);

    const conflict = await c.rest(c.node('b'), 'POST', '/v0/cluster/members', {
      id: 'c',
      address: '127.0.0.1:1',
    });
    assert.equal(conflict.status, 400);
    assert.equal(conflict.body.code, 9);
    assert.match(String(conflict.body.message), /member c already exists with address/);

    const unknownTarget = await c.rest(a, 'POST', '/v0/cluster/leader', { targetId: 'nobody' });
    assert.equal(unknownTarget.status, 404);

    // A node cut off from the others knows no leader: 503 with the reason, within the deadline.
    const leader = await c.waitForLeader();
    const loner = c.nodes.find((n) => n !== leader)!;
    c.isolate(loner.id);
    await c.until('the isolated node loses its leader', async () => (await c.status(loner))?.leaderId === '');
    const cut = await c.rest(loner, 'GET', '/v0/cluster/members');
    assert.equal(cut.status, 503);
    assert.equal(cut.body.code, 14);
    assert.match(String(cut.body.message), /no leader/);
    c.isolate(loner.id, false);
    await c.waitForLeader();
  });

  test('every acknowledged write survives adding two nodes, removing one and restarting another', async () => {
    const [a, b, nodeC] = [c.node('a'), c.node('b'), c.node('c')];
    const acknowledged = new Map<string, string>();
    let writing = true;
    let seq = 0;
    // A steady writer through whichever of a and c answers.
    const writer = (async () => {
      // At most 900 writes, so one Range page (limit 1000) reads them all back.
      while (writing && seq < 900) {
        const key = `k${seq}`;
        const value = `v${seq++}`;
        for (const n of [a, nodeC]) {
          const r = await c.put(n, key, value).catch(() => null);
          if (r?.status === 200) {
            acknowledged.set(key, value);
            break;
          }
        }
        await sleep(10);
      }
    })();

    const d = await c.addJoiner('d', a, { DKV_LOG_LEVEL: 'info' });
    const e = await c.addJoiner('e', b);
    await c.until(
      'd and e promoted',
      async () => {
        const st = await c.status(await c.waitForLeader([a, b, nodeC, d, e]));
        return isVoter(st, 'd') && isVoter(st, 'e');
      },
      30000,
    );
    // A joiner serves its API once it has joined: d may be a voter before it listens.
    await c.waitForAllUp();
    const removal = await c.rest(d, 'DELETE', '/v0/cluster/members/b');
    assert.equal(removal.status, 200, JSON.stringify(removal.body));
    assert.deepEqual(memberIds(removal.body), ['a', 'c', 'd', 'e']);
    // Restart one of the remaining members (graceful stop, then the same data dir).
    assert.equal(await c.kill(nodeC, 'SIGTERM'), 0);
    await sleep(300);
    c.spawn(nodeC);
    // And a joined node restarts from its store without joining again.
    assert.match(d.output.join(''), /joining a running cluster/);
    assert.equal(await c.kill(d, 'SIGTERM'), 0);
    c.spawn(d);
    await c.until('d restarted', async () => (await c.status(d)) !== null);
    assert.match(d.output.join(''), /already holds this node state; restarting from it/);
    assert.doesNotMatch(d.output.join(''), /joining a running cluster/);
    await sleep(1000);
    writing = false;
    await writer;
    assert.ok(acknowledged.size > 10, `only ${acknowledged.size} writes were acknowledged`);

    const remaining = [a, nodeC, d, e];
    await c.waitForLeader(remaining);
    for (const n of remaining) {
      await c.until(`${n.id} holds every acknowledged write`, async () => {
        const page = await c.rest(n, 'GET', '/v0/kv?limit=1000&consistency=LINEARIZABLE');
        if (page.status !== 200) return false;
        const kvs = page.body.kvs as { key: string; value: string }[];
        const have = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), kv.value]));
        for (const [k, v] of acknowledged) if (have.get(k) !== b64(v)) return false;
        return true;
      });
    }
    for (const n of remaining) assert.deepEqual(memberIds(await c.status(n)), ['a', 'c', 'd', 'e']);
  });
});

describe('a node joining after log compaction', () => {
  let c: TestCluster;
  after(async () => c?.stop());

  test('receives the data by snapshot', async () => {
    c = await TestCluster.start({ env: { DKV_SNAPSHOT_THRESHOLD: '20', DKV_COMPACT_KEEP_ENTRIES: '2' } });
    const a = c.node('a');
    await c.waitForLeader();
    for (let i = 0; i < 60; i++) assert.equal((await c.put(a, `s${i}`, `value-${i}`)).status, 200);
    const d = await c.addJoiner('d', c.node('b'), { DKV_LOG_LEVEL: 'info' });
    await untilServes(c, d, 's59', 'value-59');
    await untilServes(c, d, 's0', 'value-0');
    assert.match(d.output.join(''), /installed a snapshot from the leader/);
    await c.until('d promoted', async () => isVoter(await c.status(d), 'd'));

    // A member added with learner: true (then started with DKV_JOIN, whose add is then a no-op)
    // catches up but is never promoted, whoever leads.
    const e = await c.addJoinerLater('e');
    const added = await c.rest(a, 'POST', '/v0/cluster/members', {
      id: 'e',
      address: `127.0.0.1:${e.rpcPort}`,
      learner: true,
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal((added.body.member as Member).learner, true);
    c.spawn(e);
    await untilServes(c, e, 's59', 'value-59');
    assert.equal((await c.status(e))?.role, 'LEARNER');
    const leader = await c.waitForLeader([a, c.node('b'), c.node('c'), d]);
    const other = [a, c.node('b'), c.node('c'), d].find((n) => n !== leader)!;
    const moved = await c.rest(leader, 'POST', '/v0/cluster/leader', { targetId: other.id });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    await sleep(1500);
    const st = await c.status(other);
    assert.equal(st?.role, 'LEADER');
    assert.ok(!isVoter(st, 'e'), 'e stays a learner under the new leader too');
    assert.equal((await c.rest(e, 'GET', '/v0/cluster/members')).body.leaderId, other.id);
  });

  test('a node that never sees its removal committed learns it by asking, and goes quiet', async () => {
    const founders = [c.node('a'), c.node('b'), c.node('c')];
    const voters = [...founders, c.node('d')];
    let leader = await c.waitForLeader(voters);
    if (!founders.includes(leader)) {
      assert.equal((await c.rest(leader, 'POST', '/v0/cluster/leader', { targetId: 'a' })).status, 200);
      leader = await c.waitForLeader(voters);
    }
    const victim = founders.find((n) => n !== leader)!;
    // The leader's link to the victim goes down: the victim hears nothing more from it (not its
    // removal either), while it can still reach the others and ask them.
    const link = c.proxies.get(`${leader.id}>${victim.id}`)!;
    link.setCut(true);
    const removal = await c.rest(leader, 'DELETE', `/v0/cluster/members/${victim.id}`);
    assert.equal(removal.status, 200, JSON.stringify(removal.body));
    assert.ok(memberIds(await c.status(victim)).includes(victim.id), 'the victim has not seen its removal');
    await c.until(
      `${victim.id} learns it was removed`,
      async () => !memberIds(await c.status(victim)).includes(victim.id),
      20000,
    );
    assert.match(victim.output.join(''), /the leader no longer lists this node as a member/);
    link.setCut(false);
    const rest = voters.filter((n) => n !== victim);
    const terms = async () => Promise.all(rest.map(async (n) => String((await c.status(n))?.term)));
    const before = await terms();
    await sleep(2000);
    assert.deepEqual(await terms(), before, 'the removed node must not raise the others terms');
    assert.equal((await c.put(leader, 'still', 'writable')).status, 200);
  });
});
