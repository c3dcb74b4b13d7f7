/** AppendTimer: how long appends wait for their acknowledgement, per peer (a leader's round trips, a follower's answers). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppendTimer, MAX_TIMED_APPENDS } from '../../src/node/append-timer.js';
import { EntryType, MessageType, makeMessage } from '../../src/raft/index.js';

/** A timer on a clock the test moves. */
function timer(): { t: AppendTimer; at: (ms: number) => void } {
  let now = 0;
  return { t: new AppendTimer(() => now), at: (ms) => (now = ms) };
}

test('an acknowledgement reports the round trip of each append it covers, once', () => {
  const { t, at } = timer();
  at(10);
  t.started('b', 5);
  at(12);
  t.started('b', 9);
  at(15);
  assert.deepEqual(t.acked('b', 4), [], 'covers neither');
  assert.deepEqual(t.acked('b', 5), [5]);
  at(20);
  assert.deepEqual(t.acked('b', 9), [8]);
  assert.deepEqual(t.acked('b', 9), [], 'already reported');
  assert.deepEqual(t.acked('c', 9), [], 'nothing was sent to c');
});

test('one acknowledgement of several appends reports each, oldest first', () => {
  const { t, at } = timer();
  at(0);
  t.started('b', 3);
  at(1);
  t.started('b', 6);
  at(2);
  t.started('b', 8);
  at(7);
  assert.deepEqual(t.acked('b', 7), [7, 6]);
  assert.deepEqual(t.acked('b', 8), [5]);
});

test('followers are timed apart', () => {
  const { t, at } = timer();
  at(0);
  t.started('b', 4);
  t.started('c', 4);
  at(3);
  assert.deepEqual(t.acked('c', 4), [3]);
  at(9);
  assert.deepEqual(t.acked('b', 4), [9]);
});

test('entries sent again keep the first send time', () => {
  const { t, at } = timer();
  at(0);
  t.started('b', 4);
  at(5);
  t.started('b', 4); // a resend of the same entries
  t.started('b', 3); // or of fewer
  at(6);
  assert.deepEqual(t.acked('b', 4), [6]);
});

test('forget drops one follower or all: later acks report nothing until new sends', () => {
  const { t, at } = timer();
  at(0);
  t.started('b', 4);
  t.started('c', 4);
  t.forget('b');
  at(2);
  assert.deepEqual(t.acked('b', 4), []);
  t.forget();
  assert.deepEqual(t.acked('c', 4), []);
  t.started('b', 2); // after a rejection the leader backs up and sends lower indexes: timed afresh
  at(3);
  assert.deepEqual(t.acked('b', 2), [1]);
});

test('a follower that never answers costs a bounded queue: the oldest sends are forgotten', () => {
  const { t, at } = timer();
  for (let i = 1; i <= MAX_TIMED_APPENDS + 10; i++) {
    at(i);
    t.started('b', i);
  }
  at(1000);
  const rtts = t.acked('b', MAX_TIMED_APPENDS + 10);
  assert.equal(rtts.length, MAX_TIMED_APPENDS);
  assert.equal(rtts[0], 1000 - 11, 'the first kept send is the 11th');
});

test('startAppends and endWithAcks time the appends among messages, from either end', () => {
  const { t, at } = timer();
  const entry = (index: number) => ({ term: 1, index, type: EntryType.Normal, data: new Uint8Array(0) });
  at(0);
  // A follower reads appends from leader a: a heartbeat and an empty append start nothing.
  t.startAppends(
    [
      makeMessage({ type: MessageType.App, from: 'a', to: 'b', entries: [entry(1), entry(2)] }),
      makeMessage({ type: MessageType.App, from: 'a', to: 'b', entries: [] }),
      makeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b' }),
    ],
    'from',
  );
  at(4);
  const reported: [string, number][] = [];
  // Its acknowledgement leaves for a: the peer is the message's `to`.
  t.endWithAcks(
    [
      makeMessage({ type: MessageType.HeartbeatResp, from: 'b', to: 'a' }),
      makeMessage({ type: MessageType.AppResp, from: 'b', to: 'a', index: 2 }),
    ],
    'to',
    (peer, ms) => reported.push([peer, ms]),
  );
  assert.deepEqual(reported, [['a', 4]]);

  // A rejection forgets what waited on that peer.
  t.startAppends([makeMessage({ type: MessageType.App, from: 'a', to: 'b', entries: [entry(3)] })], 'from');
  t.endWithAcks(
    [makeMessage({ type: MessageType.AppResp, from: 'b', to: 'a', index: 2, reject: true })],
    'to',
    (peer, ms) => reported.push([peer, ms]),
  );
  assert.deepEqual(t.acked('a', 3), [], 'forgotten on the rejection');
  assert.equal(reported.length, 1);
});
