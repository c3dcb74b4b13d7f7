import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../integration/harness.js';
import { dkv, endpointsOf, scratchDir, show } from './run-dkv.js';

// `dkv load` and `dkv shell` (driven through piped stdin) against a live three-node cluster.
describe('dkv load and dkv shell against a live cluster', () => {
  let c: TestCluster;
  let eps: string;
  const dir = scratchDir();
  const history = join(dir, 'history');
  const run = (args: string[], input?: string) =>
    dkv(['--endpoints', eps, ...args], { input, env: { DKV_HISTORY_FILE: history } });

  before(async () => {
    c = await TestCluster.start();
    await c.waitForLeader();
    eps = endpointsOf(c);
  });
  after(async () => {
    await c?.stop();
  });

  test('load: key=value and JSON lines, several pages of keys, counted back by list', async () => {
    const lines = ['# a comment, then a blank line', ''];
    for (let i = 0; i < 250; i++) {
      const key = `bulk/${String(i).padStart(3, '0')}`;
      lines.push(i % 2 === 0 ? `${key}=v=${i}` : JSON.stringify({ key, value: `v=${i}` }));
    }
    const file = join(dir, 'bulk.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await run(['load', file, '--concurrency', '8']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `loaded 250 keys from ${file}\n`);
    assert.doesNotMatch(r.stderr, /\[#/, 'no progress bar when stderr is not a terminal');

    // 250 keys take three pages of the server's default 100: list follows them.
    const list = await run(['--output', 'json', 'list', 'bulk/']);
    assert.equal(list.code, 0, show(list));
    const kvs = JSON.parse(list.stdout).kvs as Array<{ key: string; value: string }>;
    assert.equal(kvs.length, 250);
    const at = (i: number) => kvs[i]!;
    assert.equal(Buffer.from(at(7).key, 'base64').toString(), 'bulk/007');
    assert.equal(Buffer.from(at(7).value, 'base64').toString(), 'v=7', 'the value is split at the first =');
    assert.equal((await c.get(c.node('b'), 'bulk/249')).value, 'v=249');
  });

  test('load: --output json, stdin with -, and --base64 lines', async () => {
    const b = (s: string) => Buffer.from(s).toString('base64');
    const input = `${b('b64/one')}=${b('1')}\n${JSON.stringify({ key: b('b64/two'), value: b('2') })}\n`;
    const r = await run(['--base64', '--output', 'json', 'load', '-'], input);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), { loaded: 2 });
    assert.equal((await c.get(c.node('a'), 'b64/two')).value, '2');
  });

  test('load: a malformed line is exit 2 naming file and line, before anything is written', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, 'bad/one=1\nbad/two=2\nno equals sign here\n');
    const r = await run(['load', file]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /bad\.txt:3: expected key=value or a JSON object/);
    assert.equal((await c.get(c.node('a'), 'bad/one')).status, 404);

    writeFileSync(file, '{"key": "x", "value": 5}\n');
    const j = await run(['load', file]);
    assert.equal(j.code, 2, show(j));
    assert.match(j.stderr, /bad\.txt:1: "value" must be a string/);
    writeFileSync(file, '=empty-key\n');
    const e = await run(['load', file]);
    assert.equal(e.code, 2, show(e));
    assert.match(e.stderr, /bad\.txt:1: key must not be empty/);
    const missing = await run(['load', join(dir, 'missing.txt')]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /cannot read .*missing\.txt/);
  });

  test('load against no reachable endpoint: exit 4, saying how far it got', async () => {
    const file = join(dir, 'small.txt');
    writeFileSync(file, 'x=1\n');
    const r = await dkv(['--endpoints', '127.0.0.1:1', 'load', file]);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, /load stopped after 0 of 1 keys: .*no endpoint reachable; tried 127\.0\.0\.1:1/);
  });

  test('shell with piped stdin: set, get, del, list, help; the original words and replies', async () => {
    const script = [
      'set shell/a=1',
      'set shell/b=two words = and more',
      'get shell/b',
      'list shell/',
      'del shell/a',
      'get shell/b',
      'help',
      'exit',
      'get shell/b',
    ].join('\n');
    const r = await run(['shell'], `${script}\n`);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, '');
    const out = r.stdout.split('\n');
    assert.equal(out[0], "Successfully set key 'shell/a' with value '1'");
    assert.equal(out[1], "Successfully set key 'shell/b' with value 'two words = and more'");
    assert.equal(out[2], 'two words = and more');
    assert.deepEqual(out.slice(3, 6), ['shell/a=1', 'shell/b=two words = and more', '(2 keys)']);
    assert.equal(out[6], "Deleted key 'shell/a'");
    assert.equal(out[7], 'two words = and more');
    assert.match(r.stdout, /set KEY=VALUE/);
    // Nothing after exit ran: the help text is the last output.
    assert.ok(r.stdout.endsWith('(also quit, or Ctrl-D)\n'), show(r));
    assert.equal((await c.get(c.node('c'), 'shell/a')).status, 404);

    // The commands went to the history file, oldest first.
    const saved = readFileSync(history, 'utf8').trim().split('\n');
    assert.deepEqual(saved.slice(-3), ['get shell/b', 'help', 'exit']);
  });

  test('shell errors: a message per failed command, the shell goes on, exit code of the last failure', async () => {
    const r = await run(['shell'], 'get shell/missing\nset nothing\nbogus\nset shell/c=3\nget shell/c\n');
    assert.equal(r.code, 2, show(r));
    const err = r.stderr.trim().split('\n');
    assert.match(err[0]!, /^error: get: key not found: shell\/missing /);
    assert.match(err[1]!, /^error: usage: set KEY=VALUE/);
    assert.match(err[2]!, /^error: unknown command "bogus" \(try help\)/);
    assert.equal(r.stdout, "Successfully set key 'shell/c' with value '3'\n3\n");

    const missing = await run(['shell'], 'get shell/missing\n');
    assert.equal(missing.code, 3, show(missing));
    const down = await dkv(['--endpoints', '127.0.0.1:1', 'shell'], { input: 'get a\n' });
    assert.equal(down.code, 4, show(down));
    assert.match(down.stderr, /error: get: no endpoint reachable; tried 127\.0\.0\.1:1/);
  });
});
