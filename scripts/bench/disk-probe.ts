/**
 * What a durable write costs on this disk: an LMDB transaction committed with
 * transactionSync (fdatasync + O_DSYNC meta write, as dkv's log writes) against
 * an append + fdatasync to a plain file (as etcd's WAL), each measured with
 * N processes writing at once, as N nodes of a local cluster share one disk.
 *
 *   npm run bench:disk -- [--writers 3] [--seconds 4]
 *
 * Prints p50/p90 per process and mode, and what each durable write asked of the
 * disk: its write requests and cache flushes (from /proc/diskstats, so anything
 * else writing to the disk meanwhile counts too). Temporary files go under the
 * OS temp dir.
 */
import { fork } from 'node:child_process';
import { fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { open } from 'lmdb';
import { numberFlag } from './args.js';
import { blockDeviceOf, readDiskCounters } from './disk-stats.js';

type Mode = 'lmdb' | 'wal';

/** Write 150-byte records durably for `seconds`; print the latency percentiles. */
async function writer(mode: Mode, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dkv-disk-probe-'));
  const value = Buffer.alloc(150, 1);
  const times: number[] = [];
  const end = Date.now() + seconds * 1000;
  try {
    if (mode === 'lmdb') {
      const env = open({ path: join(dir, 'db'), keyEncoding: 'binary', encoding: 'binary' });
      const db = env.openDB({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
      for (let i = 0; Date.now() < end; i++) {
        const key = Buffer.alloc(8);
        key.writeBigUInt64BE(BigInt(i));
        const start = performance.now();
        env.transactionSync(() => db.putSync(key, value));
        times.push(performance.now() - start);
      }
      await env.close();
    } else {
      const fd = openSync(join(dir, 'wal'), 'a');
      while (Date.now() < end) {
        const start = performance.now();
        writeSync(fd, value);
        fdatasyncSync(fd);
        times.push(performance.now() - start);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))]!.toFixed(3);
  console.log(
    `${mode.padEnd(4)} pid ${process.pid}: ${times.length} writes, p50 ${at(0.5)} ms, p90 ${at(0.9)} ms`,
  );
  process.send?.({ writes: times.length });
}

async function main(): Promise<void> {
  const [role, mode, seconds] = process.argv.slice(2);
  if (role === '--child') return writer(mode as Mode, Number(seconds));
  const { values } = parseArgs({ options: { writers: { type: 'string' }, seconds: { type: 'string' } } });
  const writers = Math.round(numberFlag('writers', values.writers, 3));
  const secs = numberFlag('seconds', values.seconds, 4);
  const device = blockDeviceOf(tmpdir());
  for (const m of ['lmdb', 'wal'] as const) {
    console.log(
      `${m === 'lmdb' ? 'LMDB transactionSync' : 'append + fdatasync'}, ${writers} writer(s) at once:`,
    );
    const before = readDiskCounters(device);
    let writes = 0;
    const children = Array.from({ length: writers }, () =>
      fork(process.argv[1]!, ['--child', m, String(secs)], { execArgv: process.execArgv }),
    );
    for (const c of children) c.on('message', (msg: { writes?: number }) => (writes += msg.writes ?? 0));
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
    const after = readDiskCounters(device);
    if (before && after && writes > 0) {
      const per = (n: number) => (n / writes).toFixed(1);
      console.log(
        `disk ${device}: ${per(after.writes - before.writes)} write requests and ${per(after.flushes - before.flushes)} flushes per durable write`,
      );
    }
  }
}

await main();
