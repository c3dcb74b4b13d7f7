/** The benchmark's machine figures: stolen and idle CPU time from /proc/stat. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MachineSampler,
  machineDelta,
  parseProcStat,
  readMachineCpu,
} from '../../scripts/bench/machine-stats.js';
import { fmtMachine } from '../../scripts/bench/report.js';

const STAT = `cpu  1000 50 300 5000 200 0 100 350 40 0
cpu0 500 25 150 2500 100 0 50 175 20 0
cpu1 500 25 150 2500 100 0 50 175 20 0
intr 123456 0 0
ctxt 987654
`;

test('parseProcStat reads the machine-wide cpu line, guest time left out (it is inside user)', () => {
  const t = parseProcStat(STAT);
  assert.equal(t.total, 1000 + 50 + 300 + 5000 + 200 + 0 + 100 + 350);
  assert.equal(t.idle, 5000 + 200);
  assert.equal(t.steal, 350);
});

test('parseProcStat refuses text without a cpu line, or with an unreadable one', () => {
  assert.throws(() => parseProcStat('cpu0 1 2 3 4 5 6 7 8\n'), /no cpu line/);
  assert.throws(() => parseProcStat('cpu  1 2 3 x 5 6 7 8\n'), /unreadable/);
  assert.throws(() => parseProcStat('cpu  1 2 3\n'), /unreadable/);
});

test('machineDelta gives steal and idle as shares of all CPU time between two readings', () => {
  const from = parseProcStat(STAT);
  // 1,000 ticks later: 600 busy, 300 idle (250 idle + 50 iowait), 100 stolen.
  const to = { total: from.total + 1000, idle: from.idle + 300, steal: from.steal + 100 };
  const m = machineDelta(from, to);
  assert.equal(m.stealPercent, 10);
  assert.equal(m.idlePercent, 30);
  assert.equal(fmtMachine(m), '10/30');
  assert.equal(fmtMachine({ stealPercent: 2.345, idlePercent: 0 }), '2.3/0.0');
});

test('machineDelta is NaN, not Infinity, when no time passed', () => {
  const t = parseProcStat(STAT);
  const m = machineDelta(t, t);
  assert.ok(Number.isNaN(m.stealPercent) && Number.isNaN(m.idlePercent));
  assert.equal(fmtMachine(m), '-/-');
});

test('MachineSampler reads this machine: a busy period is not all idle, and shares stay within 0-100', async () => {
  if (readMachineCpu() === null) return; // not Linux: nothing to read
  const sampler = new MachineSampler();
  sampler.start();
  // Keep one CPU busy for a while; the clock ticks at 100 Hz, so 300 ms is about 30 ticks per CPU.
  const until = performance.now() + 300;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  await new Promise((r) => setTimeout(r, 10));
  const m = sampler.stop();
  assert.ok(x > 0);
  assert.ok(m.stealPercent >= 0 && m.stealPercent <= 100, `steal ${m.stealPercent}`);
  assert.ok(m.idlePercent >= 0 && m.idlePercent < 100, `idle ${m.idlePercent}`);
});
