/** The benchmark's process figures: CPU split into user and system time, and CPU per request. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { cpuPerRequest, cpuTimes, type ProcessStats, ProcSampler } from '../../scripts/bench/proc-stats.js';

function stats(id: string, userPercent: number, systemPercent: number): ProcessStats {
  return {
    id,
    cpuPercent: userPercent + systemPercent,
    userPercent,
    systemPercent,
    rssMb: 100,
    peakRssMb: 100,
  };
}

test('CPU per request sums the servers and divides their CPU rate by the request rate', () => {
  // 50% of a core is 500,000 µs of CPU a second; at 1,000 requests a second that is 500 µs each.
  const cpu = cpuPerRequest([stats('a', 30, 20), stats('b', 10, 5), stats('c', 10, 5)], 1000);
  assert.equal(cpu.userUs, 500);
  assert.equal(cpu.systemUs, 300);
  assert.equal(cpu.totalUs, 800);
});

test('CPU per request is NaN, not Infinity, when nothing was served', () => {
  for (const throughput of [0, Number.NaN]) {
    const cpu = cpuPerRequest([stats('a', 30, 20)], throughput);
    assert.ok(Number.isNaN(cpu.totalUs) && Number.isNaN(cpu.userUs) && Number.isNaN(cpu.systemUs));
  }
});

test('cpuTimes reads user and system seconds of a live process, NaN once it is gone', async () => {
  const mine = cpuTimes(process.pid);
  assert.ok(mine.user > 0, `user ${mine.user}`);
  assert.ok(mine.system >= 0, `system ${mine.system}`);
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  // Reaped by now: /proc/<pid> is gone.
  const gone = cpuTimes(pid);
  assert.ok(Number.isNaN(gone.user) && Number.isNaN(gone.system));
});

test('the sampler splits a busy process into user and system time that add up to its CPU', async () => {
  // A child that spends its time in its own code (a loop) and in the kernel (writes to /dev/null).
  const child = spawn(process.execPath, [
    '-e',
    `const fs = require('node:fs'); const fd = fs.openSync('/dev/null', 'w'); const b = Buffer.alloc(65536);
     const end = Date.now() + 5000; let x = 0;
     while (Date.now() < end) { for (let i = 0; i < 1e5; i++) x += i; fs.writeSync(fd, b); }`,
  ]);
  try {
    const sampler = new ProcSampler([{ id: 'busy', pid: child.pid! }]);
    sampler.start();
    await new Promise((r) => setTimeout(r, 1500));
    const [s] = sampler.stop();
    assert.ok(s !== undefined);
    assert.ok(s.userPercent > 10, `user ${s.userPercent}%`);
    assert.ok(s.systemPercent >= 0, `system ${s.systemPercent}%`);
    assert.ok(Math.abs(s.cpuPercent - (s.userPercent + s.systemPercent)) < 1e-9);
    assert.ok(s.rssMb > 0);
  } finally {
    child.kill();
  }
});
