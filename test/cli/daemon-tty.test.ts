import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/bench/free-port.js';
import { DKV_BIN, dkv, scratchDir, show } from './run-dkv.js';

/**
 * Run `dkv ARGS` under util-linux `script`, which gives it a pseudo-terminal as an
 * operator's shell would (the progress bar and the prompt only appear there), and
 * return what the terminal showed. Each of `lines` is typed once the program shows its
 * next prompt: typed earlier, it could be discarded when readline switches the terminal
 * to raw mode. Killed (and failed) after 60 s rather than hang the suite.
 */
function onTerminal(args: string[], lines: string[], env: Record<string, string> = {}) {
  const command = [process.execPath, DKV_BIN, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise<{ code: number | null; out: string }>((res, rej) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own session: `script` then cannot touch the terminal (if any) that runs the tests.
      detached: true,
    });
    let out = '';
    let typed = 0;
    const timer = setTimeout(() => {
      process.kill(-p.pid!, 'SIGKILL');
      rej(new Error(`dkv ${args.join(' ')} on a terminal did not finish; it showed:\n${out}`));
    }, 60000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const prompts = out.split('dkv> ').length - 1;
      while (typed < lines.length && typed < prompts) p.stdin.write(`${lines[typed++]}\n`);
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
    if (lines.length === 0) p.stdin.end();
  });
}

// `dkv` with no arguments is the daemon; a one-node cluster started that way serves the client,
// whose terminal-only behaviour (progress bar, prompt, history) is checked on a pseudo-terminal.
describe('dkv as the daemon, and the client on a terminal', () => {
  const dir = scratchDir();
  let daemon: ChildProcess;
  let endpoint: string;
  let exited: Promise<number | null>;

  before(async () => {
    const port = await freePort();
    endpoint = `127.0.0.1:${port}`;
    daemon = spawn(process.execPath, [DKV_BIN], {
      env: {
        ...process.env,
        DKV_NODE_ID: 'solo',
        DKV_CLUSTER: `solo@${endpoint}`,
        DKV_REST_PORT: String(await freePort()),
        DKV_DB_PATH: join(dir, 'solo'),
        DKV_BIND_HOST: '127.0.0.1',
        DKV_LOG_LEVEL: 'warn',
        DKV_TICK_MS: '50',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    exited = new Promise((res) => daemon.once('exit', (code) => res(code)));
    for (let i = 0; i < 100; i++) {
      const r = await dkv(['--endpoints', endpoint, '--output', 'json', 'status']);
      if (r.code === 0 && JSON.parse(r.stdout).role === 'LEADER') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the daemon started by bin/dkv.js did not become leader');
  });
  after(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('no arguments and no environment: the daemon refuses to start, naming the variable (exit 2)', async () => {
    const r = await dkv([]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /dkv: invalid configuration: DKV_(NODE_ID|CLUSTER)/);
  });

  test('load on a terminal draws a progress bar on stderr, then prints the count', async () => {
    const file = join(dir, 'pairs.txt');
    writeFileSync(file, Array.from({ length: 300 }, (_, i) => `tty/${i}=v${i}`).join('\n'));
    const r = await onTerminal(['--endpoints', endpoint, 'load', file], []);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\rloading \[[#.]{30}\]\s+\d+% \d+\/300/);
    assert.match(r.out, /loaded 300 keys/);
    const list = await dkv(['--endpoints', endpoint, '--output', 'json', 'list', 'tty/']);
    assert.equal(JSON.parse(list.stdout).kvs.length, 300);
  });

  test('the shell on a terminal: a prompt, and the history saved for the next session', async () => {
    const history = join(dir, 'history');
    writeFileSync(history, 'get old-command\n');
    const r = await onTerminal(['--endpoints', endpoint, 'shell'], ['set t=1', 'get t', 'exit'], {
      DKV_HISTORY_FILE: history,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /dkv> /);
    assert.match(r.out, /Successfully set key 't' with value '1'/);
    assert.deepEqual(readFileSync(history, 'utf8').trim().split('\n'), [
      'get old-command',
      'set t=1',
      'get t',
      'exit',
    ]);
  });

  test('shutdown through the CLI stops the daemon with exit 0', async () => {
    const r = await dkv(['--endpoints', endpoint, 'shutdown']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `node solo at ${endpoint} is shutting down\n`);
    assert.equal(await exited, 0);
  });
});
