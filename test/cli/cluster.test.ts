import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/bench/free-port.js';
import { TestCluster, type TestNode } from '../integration/harness.js';
import { dkv, endpointsOf, scratchDir, show } from './run-dkv.js';

// The cluster commands of the real `dkv` binary: status, members, member add/remove,
// leader transfer and shutdown, against a live cluster that a fourth node joins.
describe('dkv members, member add/remove, leader transfer, shutdown against a live cluster', () => {
  let c: TestCluster;
  let eps: string;
  let d: TestNode;
  const dir = scratchDir();
  const run = (args: string[]) => dkv(['--endpoints', eps, ...args]);

  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
    eps = endpointsOf(c, ['a', 'b', 'c']);
  });
  after(async () => {
    await c?.stop();
  });

  test('members: every voter with its address, the leader marked; JSON parseable', async () => {
    const leader = await c.waitForLeader();
    const r = await run(['members']);
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+ADDRESS\s+ROLE\s+MATCH_INDEX\s+REACHABLE$/);
    assert.equal(lines.length, 4, show(r));
    assert.match(r.stdout, new RegExp(`^${leader.id}\\s+127\\.0\\.0\\.1:\\d+\\s+voter \\(leader\\)`, 'm'));
    const j = await run(['--output', 'json', 'members']);
    assert.equal(j.code, 0, show(j));
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.leaderId, leader.id);
    assert.deepEqual(doc.members.map((m: { id: string }) => m.id).sort(), ['a', 'b', 'c']);
    assert.equal(doc.members[0].learner, false);
  });

  test('leader transfer: to a named voter, then to any other; errors name the target', async () => {
    const leader = await c.waitForLeader();
    const target = c.nodes.find((n) => n !== leader)!;
    const r = await run(['leader', 'transfer', target.id]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^leader is now ${target.id} \\(term \\d+\\)`));
    assert.equal((await c.waitForLeader()).id, target.id);

    const any = await run(['--output', 'json', 'leader', 'transfer']);
    assert.equal(any.code, 0, show(any));
    const doc = JSON.parse(any.stdout);
    assert.notEqual(doc.leaderId, target.id);
    assert.match(doc.term, /^\d+$/);

    const unknown = await run(['leader', 'transfer', 'zz']);
    assert.equal(unknown.code, 3, show(unknown));
    assert.match(unknown.stderr, /zz is not a member of the cluster/);
  });

  test('member add --wait: a fourth node joins, catches up, is promoted, and serves the data', async () => {
    assert.equal((await run(['put', 'before-join', 'yes'])).code, 0);
    const rpcPort = await freePort();
    d = {
      id: 'd',
      rpcPort,
      restPort: await freePort(),
      dbPath: join(dir, 'd'),
      env: {},
      proc: null,
      output: [],
    };
    d.env = {
      ...c.node('a').env,
      DKV_NODE_ID: 'd',
      DKV_CLUSTER: '',
      DKV_JOIN: `127.0.0.1:${c.node('c').rpcPort}`,
      DKV_RPC_PORT: String(d.rpcPort),
      DKV_REST_PORT: String(d.restPort),
      DKV_DB_PATH: d.dbPath,
    };
    const address = `127.0.0.1:${rpcPort}`;
    // Add first and wait; the node starts meanwhile (its own join request is then a no-op).
    const adding = run(['member', 'add', 'd', address, '--wait', '--wait-timeout', '60000']);
    await new Promise((r) => setTimeout(r, 500));
    c.nodes.push(d);
    c.spawn(d);
    const r = await adding;
    assert.equal(r.code, 0, `${show(r)}\n${c.describe()}`);
    assert.match(r.stdout, new RegExp(`^added d at ${address} as a learner, promoted to voter`));
    assert.match(r.stderr, /d caught up: match index \d+, commit index \d+, voter/);

    const members = await run(['--output', 'json', 'members']);
    const doc = JSON.parse(members.stdout);
    const md = doc.members.find((m: { id: string }) => m.id === 'd');
    assert.deepEqual([md?.address, md?.learner], [address, false], members.stdout);
    const get = await dkv(['--endpoints', address, 'get', 'before-join']);
    assert.equal(get.code, 0, show(get));
    assert.equal(get.stdout, 'yes\n');
  });

  test('member add conflicts and bad input: exit 5 and exit 2 with the reason', async () => {
    const conflict = await run(['member', 'add', 'd', '127.0.0.1:1']);
    assert.equal(conflict.code, 5, show(conflict));
    assert.match(conflict.stderr, /FAILED_PRECONDITION/);
    const badId = await run(['member', 'add', 'bad id!', '127.0.0.1:5']);
    assert.equal(badId.code, 2, show(badId));
    assert.match(badId.stderr, /"bad id!" is not a valid node id/);
    const badAddress = await run(['member', 'add', 'e', 'nowhere']);
    assert.equal(badAddress.code, 2, show(badAddress));
    assert.match(badAddress.stderr, /address "nowhere" is not host:port/);
    const missing = await run(['member', 'add', 'e']);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /missing required argument 'address'/);
  });

  test('member add --learner stays a learner; --wait on a node that never starts gives up with exit 4', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const r = await run(['member', 'add', 'e', address, '--learner']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^added e at ${address} as a learner\n`));
    assert.match(r.stdout, new RegExp(`^e\\s+${address}\\s+learner`, 'm'));
    const again = await run(['member', 'add', 'e', address, '--learner', '--wait', '--wait-timeout', '1500']);
    assert.equal(again.code, 4, show(again));
    assert.match(
      again.stderr,
      /member add --wait: e did not catch up within 1500 ms \(match index 0 of commit index \d+/,
    );
    const removed = await run(['member', 'remove', 'e']);
    assert.equal(removed.code, 0, show(removed));
  });

  test('member remove: the member leaves the configuration; an unknown id is exit 3', async () => {
    const r = await run(['member', 'remove', 'd']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^removed d\n/);
    assert.doesNotMatch(r.stdout, /^d\s/m);
    const members = JSON.parse((await run(['--output', 'json', 'members'])).stdout);
    assert.deepEqual(members.members.map((m: { id: string }) => m.id).sort(), ['a', 'b', 'c']);
    const again = await run(['member', 'remove', 'd']);
    assert.equal(again.code, 3, show(again));
    assert.match(again.stderr, /d is not a member of the cluster/);
  });

  test('shutdown: needs --endpoint, stops exactly that node, then all of them', async () => {
    const ambiguous = await run(['shutdown']);
    assert.equal(ambiguous.code, 2, show(ambiguous));
    assert.match(ambiguous.stderr, /shutdown needs --endpoint/);
    const bad = await run(['shutdown', '--endpoint', 'nope']);
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--endpoint: "nope" is not host:port/);
    const dead = `127.0.0.1:${await freePort()}`;
    const unreachable = await run(['shutdown', '--endpoint', dead]);
    assert.equal(unreachable.code, 4, show(unreachable));
    assert.ok(unreachable.stderr.includes(`tried ${dead} (connection failed)`), show(unreachable));

    // Stop every node through the CLI; each process exits cleanly.
    for (const n of [d, c.node('a'), c.node('b'), c.node('c')]) {
      const p = n.proc!;
      const exited = new Promise<number | null>((res) =>
        p.exitCode !== null ? res(p.exitCode) : p.once('exit', (code) => res(code)),
      );
      const r = await dkv(['--endpoints', `127.0.0.1:${n.rpcPort}`, 'shutdown']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `node ${n.id} at 127.0.0.1:${n.rpcPort} is shutting down\n`);
      assert.equal(await exited, 0, c.describe());
      n.proc = null;
    }
  });
});
