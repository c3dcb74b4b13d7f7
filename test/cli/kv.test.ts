import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/bench/free-port.js';
import { TestCluster } from '../integration/harness.js';
import { dkv, endpointsOf, scratchDir, show } from './run-dkv.js';

// The key-value commands of the real `dkv` binary against a live three-node cluster.
describe('dkv put/get/del/list/cas against a live cluster', () => {
  let c: TestCluster;
  let eps: string;
  const dir = scratchDir();
  const run = (args: string[], input?: string) => dkv(['--endpoints', eps, ...args], { input });

  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
    eps = endpointsOf(c);
  });
  after(async () => {
    await c?.stop();
  });

  test('put, get, del: table output, exit 0; the value is readable over REST too', async () => {
    const put = await run(['put', 'greeting', 'héllo wörld']);
    assert.equal(put.code, 0, show(put));
    assert.match(put.stdout, /^OK \(revision \d+\)\n$/);
    const get = await run(['get', 'greeting']);
    assert.equal(get.code, 0, show(get));
    assert.equal(get.stdout, 'héllo wörld\n');
    assert.equal((await c.get(c.node('c'), 'greeting')).value, 'héllo wörld');

    const ser = await run(['get', 'greeting', '--serializable']);
    assert.equal(ser.code, 0, show(ser));
    assert.equal(ser.stdout, 'héllo wörld\n');

    const del = await run(['del', 'greeting']);
    assert.equal(del.code, 0, show(del));
    assert.match(del.stdout, /^deleted \(revision \d+\)/);
    const again = await run(['del', 'greeting']);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /not found: nothing deleted/);
  });

  test('get of a missing key: exit 3 and a message naming it', async () => {
    const r = await run(['get', 'never-written']);
    assert.equal(r.code, 3, show(r));
    assert.equal(r.stdout, '');
    // Named as typed (the server names keys in base64), with the node that answered.
    assert.match(r.stderr, /dkv: get: key not found: never-written \(NOT_FOUND from 127\.0\.0\.1:\d+\)/);
  });

  test('put --file stores the file bytes exactly', async () => {
    const file = join(dir, 'value.bin');
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    writeFileSync(file, bytes);
    const put = await run(['put', 'from-file', '--file', file]);
    assert.equal(put.code, 0, show(put));
    const get = await run(['--base64', 'get', 'ZnJvbS1maWxl']);
    assert.equal(get.code, 0, show(get));
    assert.equal(get.stdout.trim(), bytes.toString('base64'));

    const missing = await run(['put', 'k', '--file', join(dir, 'nope')]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /--file .*nope: ENOENT/);
    const both = await run(['put', 'k', 'v', '--file', file]);
    assert.equal(both.code, 2, show(both));
    assert.match(both.stderr, /either as an argument or with --file/);
  });

  test('bad input: exit 2 with a message naming the problem, and nothing written', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['put', '', 'v'], /key must not be empty/],
      [['get', ''], /key must not be empty/],
      [['--base64', 'put', '!!notb64', 'dg=='], /key "!!notb64" is not valid base64/],
      [['--base64', 'put', 'aw==', 'not base64!'], /value "not base64!" is not valid base64/],
      [['put', 'only-key'], /missing value/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['get', 'k', '--no-such-option'], /unknown option '--no-such-option'/],
      [['get'], /missing required argument 'key'/],
      [['--timeout', 'soon', 'get', 'k'], /--timeout must be a whole number/],
      [['--output', 'yaml', 'get', 'k'], /argument 'yaml' is invalid/],
      [['list', '--limit', '0'], /--limit must be a whole number of at least 1/],
      [['cas', 'k', 'only-expected'], /give KEY EXPECTED NEW/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(args)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${show(r)}`);
      assert.match(r.stderr, cases[i]![1], `${cases[i]![0].join(' ')}: ${show(r)}`);
    });
    const badEndpoints = await dkv(['--endpoints', 'nohostport', 'get', 'k']);
    assert.equal(badEndpoints.code, 2, show(badEndpoints));
    assert.match(badEndpoints.stderr, /--endpoints: "nohostport" is not host:port/);
    const badEnv = await dkv(['get', 'k'], { env: { DKV_ENDPOINTS: 'a:b:c' } });
    assert.equal(badEnv.code, 2, show(badEnv));
    assert.match(badEnv.stderr, /DKV_ENDPOINTS: "a:b:c" is not host:port/);
    // The server's own validation: a key over the 1024-byte limit is INVALID_ARGUMENT -> 2.
    const big = await run(['put', 'k'.repeat(1025), 'v']);
    assert.equal(big.code, 2, show(big));
    assert.match(big.stderr, /1024/);
    assert.equal((await c.get(c.node('a'), 'only-key')).status, 404);
  });

  test('cas: swaps when the value matches, exit 5 showing the current value when not; --absent creates only', async () => {
    assert.equal((await run(['put', 'counter', '1'])).code, 0);
    const ok = await run(['cas', 'counter', '1', '2']);
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, /^swapped \(revision \d+\)/);
    const stale = await run(['cas', 'counter', '1', '3']);
    assert.equal(stale.code, 5, show(stale));
    assert.match(stale.stderr, /cas: not swapped: counter holds "2"/);
    assert.equal((await run(['get', 'counter'])).stdout, '2\n');

    const created = await run(['cas', '--absent', 'lock', 'me']);
    assert.equal(created.code, 0, show(created));
    const taken = await run(['cas', '--absent', 'lock', 'you']);
    assert.equal(taken.code, 5, show(taken));
    assert.match(taken.stderr, /lock holds "me"/);
    const gone = await run(['cas', 'no-such', 'x', 'y']);
    assert.equal(gone.code, 5, show(gone));
    assert.match(gone.stderr, /no-such does not exist/);
    const json = await run(['--output', 'json', 'cas', 'counter', '9', '10']);
    assert.equal(json.code, 5, show(json));
    assert.deepEqual(JSON.parse(json.stdout).currentValue, Buffer.from('2').toString('base64'));
  });

  test('list: prefix, --limit, table and a count on stderr', async () => {
    for (const k of ['fruit/apple', 'fruit/banana', 'fruit/cherry', 'veg/leek']) {
      assert.equal((await run(['put', k, k.toUpperCase()])).code, 0);
    }
    const all = await run(['list', 'fruit/']);
    assert.equal(all.code, 0, show(all));
    const lines = all.stdout.trim().split('\n');
    assert.match(lines[0]!, /^KEY\s+VALUE\s+MOD_REVISION$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2)),
      [
        ['fruit/apple', 'FRUIT/APPLE'],
        ['fruit/banana', 'FRUIT/BANANA'],
        ['fruit/cherry', 'FRUIT/CHERRY'],
      ],
    );
    assert.match(all.stderr, /3 keys/);
    const two = await run(['--output', 'json', 'list', 'fruit/', '--limit', '2']);
    assert.equal(two.code, 0, show(two));
    const doc = JSON.parse(two.stdout);
    assert.deepEqual(
      doc.kvs.map((kv: { key: string }) => Buffer.from(kv.key, 'base64').toString()),
      ['fruit/apple', 'fruit/banana'],
    );
    assert.notEqual(doc.nextPageToken, '', 'more keys remain after the limit');
    const none = await run(['--output', 'json', 'list', 'nothing-here/']);
    assert.deepEqual(JSON.parse(none.stdout).kvs, []);
  });

  test('--output json: one parseable document in grpc-gateway JSON for every command', async () => {
    const put = await run(['--output', 'json', 'put', 'j', 'son']);
    assert.equal(put.code, 0, show(put));
    const p = JSON.parse(put.stdout);
    assert.equal(p.message, 'success');
    assert.match(p.revision, /^\d+$/, 'uint64 as a decimal string');
    const get = JSON.parse((await run(['--output', 'json', 'get', 'j'])).stdout);
    assert.deepEqual(get, { key: 'ag==', value: 'c29u', revision: p.revision });
    // Exactly what the REST API answers for the same read.
    assert.deepEqual(get, (await c.rest(c.node('a'), 'GET', '/v0/kv/key/ag')).body);
    const st = await run(['--output', 'json', 'status']);
    assert.equal(st.code, 0, show(st));
    const s = JSON.parse(st.stdout);
    assert.ok(['LEADER', 'FOLLOWER'].includes(s.role), st.stdout);
    assert.equal(s.members.length, 3);
    assert.equal(typeof s.members[0].reachable, 'boolean');
    const del = JSON.parse((await run(['--output', 'json', 'del', 'j'])).stdout);
    assert.equal(del.deleted, true);
    const del2 = JSON.parse((await run(['--output', 'json', 'del', 'j'])).stdout);
    assert.equal(del2.deleted, false, 'zero values are printed, not omitted');
  });

  test('--base64: keys and values given and printed as base64, binary-safe', async () => {
    const key = Buffer.from([0xff, 0x00, 0x2f]).toString('base64');
    const value = Buffer.from([0x80, 0x81]).toString('base64');
    const put = await run(['--base64', 'put', key, value]);
    assert.equal(put.code, 0, show(put));
    const get = await run(['--base64', 'get', key]);
    assert.equal(get.stdout, `${value}\n`);
    const list = await run(['--base64', 'list', Buffer.from([0xff]).toString('base64')]);
    assert.match(list.stdout, new RegExp(`${key.replace(/[+/]/g, '\\$&')}\\s+${value}`));
  });

  test('status: the answering node, its role and the members, in a table', async () => {
    const r = await run(['status']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^role\s+(LEADER|FOLLOWER)$/m);
    assert.match(r.stdout, /^leader\s+[abc]$/m);
    for (const id of ['a', 'b', 'c'])
      assert.match(r.stdout, new RegExp(`^${id}\\s+127\\.0\\.0\\.1:\\d+\\s+voter`, 'm'));
  });

  test('status: replication progress is the leader view; a follower shows "-" for it', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const fromLeader = await dkv(['--endpoints', `127.0.0.1:${leader.rpcPort}`, 'status']);
    assert.equal(fromLeader.code, 0, show(fromLeader));
    assert.match(fromLeader.stdout, new RegExp(`^${follower.id}\\s+\\S+\\s+voter\\s+\\d+\\s+yes$`, 'm'));
    const fromFollower = await dkv(['--endpoints', `127.0.0.1:${follower.rpcPort}`, 'status']);
    assert.equal(fromFollower.code, 0, show(fromFollower));
    assert.match(
      fromFollower.stdout,
      new RegExp(`^${leader.id}\\s+\\S+\\s+voter \\(leader\\)\\s+-\\s+-$`, 'm'),
    );
  });

  test('failover: a dead first endpoint is skipped and the second answers (-v says which)', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const live = `127.0.0.1:${c.node('b').rpcPort}`;
    const put = await dkv(['--endpoints', `${dead},${live}`, '-v', 'put', 'fail', 'over']);
    assert.equal(put.code, 0, show(put));
    assert.match(put.stderr, new RegExp(`${dead}: connection failed`));
    assert.match(put.stderr, new RegExp(`put answered by ${live} in [\\d.]+ ms`));
    const get = await dkv(['--endpoints', `${dead},${live}`, 'get', 'fail']);
    assert.equal(get.stdout, 'over\n', show(get));
  });

  test('failover on a deadline: a stopped (SIGSTOP) node is given up after --timeout', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const other = c.nodes.find((n) => n !== leader && n !== follower)!;
    await c.kill(follower, 'SIGSTOP');
    try {
      const r = await dkv([
        '--endpoints',
        endpointsOf(c, [follower.id, other.id]),
        '--timeout',
        '1500',
        '-v',
        'get',
        'fail',
      ]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'over\n');
      assert.match(r.stderr, new RegExp(`answered by 127.0.0.1:${other.rpcPort}`));
      // It was tried first and given up on at the deadline, not skipped.
      assert.match(
        r.stderr,
        new RegExp(
          // The wait reported is what was left of the 1500 ms when it began (1499 if a millisecond went).
          `127.0.0.1:${follower.rpcPort}: (no connection within 1[45]\\d\\d ms|get failed .*DEADLINE_EXCEEDED)`,
        ),
      );
    } finally {
      await c.kill(follower, 'SIGCONT');
    }
  });

  test('no endpoint reachable: exit 4 and a message naming every endpoint tried', async () => {
    const a = `127.0.0.1:${await freePort()}`;
    const b = `127.0.0.1:${await freePort()}`;
    for (const args of [['get', 'k'], ['put', 'k', 'v'], ['status'], ['list']]) {
      const r = await dkv(['--endpoints', `${a},${b}`, ...args]);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stderr, /no endpoint reachable/);
      assert.ok(
        r.stderr.includes(`${a} (connection failed)`) && r.stderr.includes(`${b} (connection failed)`),
        show(r),
      );
    }
    // The default endpoints come from DKV_ENDPOINTS when --endpoints is absent.
    const env = await dkv(['get', 'k'], { env: { DKV_ENDPOINTS: a } });
    assert.equal(env.code, 4, show(env));
    assert.ok(env.stderr.includes(a), show(env));
  });
});
