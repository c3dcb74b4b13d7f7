/** When a busy leader holds proposals back: an append holds until committed or written here. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppendHold, HOLD_MIN_WAITING, TWO_APPENDS_MIN_WAITING } from '../../src/node/append-hold.js';

test('with fewer than HOLD_MIN_WAITING writes waiting nothing is held, whatever is in flight', () => {
  const h = new AppendHold();
  h.started(10);
  h.started(20);
  assert.equal(h.holds(HOLD_MIN_WAITING - 1), false);
  assert.equal(h.holds(HOLD_MIN_WAITING), true);
});

test('one append holds from HOLD_MIN_WAITING waiting writes, two are needed from TWO_APPENDS_MIN_WAITING', () => {
  const h = new AppendHold();
  assert.equal(h.holds(HOLD_MIN_WAITING), false, 'nothing in flight');
  h.started(10);
  assert.equal(h.holds(HOLD_MIN_WAITING), true);
  assert.equal(h.holds(TWO_APPENDS_MIN_WAITING), false);
  h.started(20);
  assert.equal(h.holds(TWO_APPENDS_MIN_WAITING), true);
});

test('a commit releases the appends it covers, not later ones', () => {
  const h = new AppendHold();
  h.started(10);
  h.started(20);
  assert.equal(h.committed(9), false, 'the first append is not committed yet');
  assert.equal(h.size(), 2);
  assert.equal(h.committed(15), true);
  assert.equal(h.size(), 1);
  assert.equal(h.holds(HOLD_MIN_WAITING), true, 'the second append still holds');
  assert.equal(h.committed(20), true);
  assert.equal(h.holds(HOLD_MIN_WAITING), false);
});

test('the leader finishing its own write releases an append once: a later commit or write finds it gone', () => {
  const h = new AppendHold();
  const a = h.started(10);
  const b = h.started(20);
  assert.equal(h.written(a), true);
  assert.equal(h.committed(10), false, 'already released by its write');
  assert.equal(h.committed(20), true);
  assert.equal(h.written(b), false, 'already released by its commit');
  assert.equal(h.size(), 0);
});
