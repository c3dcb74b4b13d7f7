/** The benchmark's cell settings from its flags: defaults, the smoke run's, and refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellSettingsFromFlags, SETTLE_S } from '../../scripts/bench/cell.js';

test('without flags a full run settles for SETTLE_S seconds and warms each cell up for 20% of it, at most 2 s', () => {
  const s = cellSettingsFromFlags({}, { durationS: 10 });
  assert.equal(SETTLE_S, 20);
  assert.equal(s.settleMs, 20_000);
  assert.equal(s.durationMs, 10_000);
  assert.equal(s.warmupMs, 2_000);
  assert.equal(cellSettingsFromFlags({}, { durationS: 5 }).warmupMs, 1_000);
});

test("a caller's settling default (the smoke run's 5 s) gives way to the flag", () => {
  assert.equal(cellSettingsFromFlags({}, { durationS: 3, warmupS: 1, settleS: 5 }).settleMs, 5_000);
  assert.equal(cellSettingsFromFlags({ settle: '12' }, { durationS: 3, settleS: 5 }).settleMs, 12_000);
});

test('--settle 0 turns settling off; a negative or non-numeric value is refused, naming the flag', () => {
  assert.equal(cellSettingsFromFlags({ settle: '0' }, { durationS: 10 }).settleMs, 0);
  for (const bad of ['-1', 'soon', '']) {
    assert.throws(
      () => cellSettingsFromFlags({ settle: bad }, { durationS: 10 }),
      new RegExp(`--settle: expected a number of 0 or more, got "${bad}"`),
    );
  }
  assert.throws(
    () => cellSettingsFromFlags({ duration: '0' }, { durationS: 10 }),
    /--duration: expected a positive number/,
  );
});

test('--keys and --value-bytes are refused outside what the keys and the write numbers allow', () => {
  const flags = cellSettingsFromFlags({ keys: '100000000', 'value-bytes': '12' }, { durationS: 10 });
  assert.equal(flags.keys, 100_000_000);
  assert.equal(flags.valueBytes, 12);
  assert.throws(
    () => cellSettingsFromFlags({ keys: '100000001' }, { durationS: 10 }),
    /--keys: expected 1 to 100000000, got "100000001"/,
  );
  assert.throws(
    () => cellSettingsFromFlags({ 'value-bytes': '11' }, { durationS: 10 }),
    /--value-bytes: expected 12 to 1000000, got "11" \(each put's value carries its write's number in 12 bytes\)/,
  );
});
