import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const base = {
  DKV_NODE_ID: 'a',
  DKV_CLUSTER: 'a@127.0.0.1:7070,b@127.0.0.1:8080,c@127.0.0.1:9090',
  DKV_RPC_PORT: '7070',
  DKV_REST_PORT: '7071',
  DKV_DB_PATH: 'a.db',
};

describe('configuration from the environment', () => {
  test('the original dkv variables give a full configuration with defaults', () => {
    const c = loadConfig({ ...base, DKV_LOG_LEVEL: 'debug' });
    assert.equal(c.nodeId, 'a');
    assert.deepEqual(
      c.cluster.map((m) => `${m.id}@${m.address}`),
      ['a@127.0.0.1:7070', 'b@127.0.0.1:8080', 'c@127.0.0.1:9090'],
    );
    assert.equal(c.rpcPort, 7070);
    assert.equal(c.restPort, 7071);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.tickMs, 100);
    assert.match(c.clusterId, /^dkv-[0-9a-f]{8}$/);
    assert.deepEqual([c.maxKeyBytes, c.maxValueBytes], [1024, 1024 * 1024]);
    assert.equal(loadConfig({ ...base, DKV_MAX_VALUE_BYTES: '4096' }).maxValueBytes, 4096);
    assert.equal(c.restThread, false);
    assert.equal(loadConfig({ ...base, DKV_REST_THREAD: 'true' }).restThread, true);
    assert.equal(loadConfig({ ...base, DKV_REST_THREAD: 'false' }).restThread, false);
    assert.equal(loadConfig({ ...base, DKV_REST_THREAD: '0' }).restThread, false);
    assert.equal(loadConfig({ ...base, DKV_REST_THREAD: '1' }).restThread, true);
    assert.equal(
      loadConfig({ ...base, DKV_CLUSTER: 'c@h:1,b@h:2,a@h:3' }).clusterId,
      c.clusterId,
      'same ids, same cluster',
    );
  });

  test('DKV_JOIN alone: no founders, the advertised address defaults to bind host (or loopback) and port', () => {
    const env = { DKV_NODE_ID: 'd', DKV_JOIN: 'c:7070', DKV_RPC_PORT: '7080' };
    const c = loadConfig(env);
    assert.deepEqual(c.cluster, []);
    assert.equal(c.join, 'c:7070');
    assert.equal(c.advertiseAddress, '127.0.0.1:7080');
    assert.equal(c.restPort, 7081);
    assert.equal(loadConfig({ ...env, DKV_BIND_HOST: '10.1.2.3' }).advertiseAddress, '10.1.2.3:7080');
    assert.equal(loadConfig({ ...env, DKV_ADVERTISE_ADDRESS: 'dkv-4:7080' }).advertiseAddress, 'dkv-4:7080');
    // With DKV_JOIN, DKV_CLUSTER is not used to found a cluster.
    assert.deepEqual(loadConfig({ ...env, DKV_CLUSTER: base.DKV_CLUSTER }).cluster, []);
    // A founder advertises its own DKV_CLUSTER address.
    assert.equal(loadConfig(base).advertiseAddress, '127.0.0.1:7070');
    assert.equal(loadConfig(base).join, null);
  });

  const bad: [string, Record<string, string | undefined>, RegExp][] = [
    ['DKV_NODE_ID', { DKV_NODE_ID: undefined }, /DKV_NODE_ID: is required/],
    ['DKV_NODE_ID', { DKV_NODE_ID: 'z' }, /DKV_NODE_ID: "z" is not a member of DKV_CLUSTER/],
    ['DKV_CLUSTER', { DKV_CLUSTER: 'a@127.0.0.1' }, /DKV_CLUSTER: "127.0.0.1" \(member a\) is not host:port/],
    ['DKV_CLUSTER', { DKV_CLUSTER: 'a@h:1,a@h:2' }, /DKV_CLUSTER: member id "a" appears twice/],
    ['DKV_CLUSTER', { DKV_CLUSTER: 'a127.0.0.1:7070' }, /DKV_CLUSTER: "a127.0.0.1:7070" is not id@host:port/],
    ['DKV_RPC_PORT', { DKV_RPC_PORT: 'seventy' }, /DKV_RPC_PORT: /],
    ['DKV_RPC_PORT', { DKV_RPC_PORT: '70000' }, /DKV_RPC_PORT must be between 1 and 65535/],
    ['DKV_REST_PORT', { DKV_REST_PORT: '7070' }, /DKV_REST_PORT: must differ from DKV_RPC_PORT/],
    ['DKV_LOG_LEVEL', { DKV_LOG_LEVEL: 'loud' }, /DKV_LOG_LEVEL: must be one of/],
    ['DKV_TICK_MS', { DKV_TICK_MS: '0' }, /DKV_TICK_MS must be at least 1/],
    ['DKV_REST_THREAD', { DKV_REST_THREAD: 'yes' }, /DKV_REST_THREAD: must be true or false/],
    [
      'DKV_HEARTBEAT_TICKS',
      { DKV_HEARTBEAT_TICKS: '10' },
      /DKV_HEARTBEAT_TICKS: must be less than DKV_ELECTION_TICKS/,
    ],
    ['DKV_CLUSTER', { DKV_CLUSTER: undefined }, /DKV_CLUSTER: is required .* unless DKV_JOIN/],
    ['DKV_JOIN', { DKV_JOIN: 'nowhere' }, /DKV_JOIN: must be host:port of a running member/],
    ['DKV_ADVERTISE_ADDRESS', { DKV_ADVERTISE_ADDRESS: 'x:y' }, /DKV_ADVERTISE_ADDRESS: must be host:port/],
    ['DKV_RPC_PORT', { DKV_JOIN: 'h:1', DKV_RPC_PORT: undefined }, /DKV_RPC_PORT: is required with DKV_JOIN/],
  ];
  for (const [variable, env, message] of bad) {
    test(`a bad ${variable} is refused naming the variable (${JSON.stringify(env)})`, () => {
      assert.throws(
        () => loadConfig({ ...base, ...env }),
        (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message),
      );
    });
  }

  test('the daemon exits with code 2 and one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts')], {
      cwd: root,
      env: { ...process.env, ...base, DKV_RPC_PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^dkv: invalid configuration: DKV_RPC_PORT: /);
  });
});
