/**
 * Leadership transfer (Raft thesis §3.10): the leader brings the transferee
 * up to date, then sends it TimeoutNow so it campaigns at once; meanwhile it
 * stops taking proposals, and gives up if the transfer does not finish within
 * an election timeout.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../src/raft/index.js';
import {
  bytes,
  Cluster,
  ConfChangeType,
  confChange,
  ELECTION_TICKS,
  MessageType,
  Role,
  text,
} from './harness.js';

describe('§3.10 leadership transfer', () => {
  for (const transferee of ['b', 'c']) {
    test(`§3.10 transfer to up-to-date follower ${transferee}: it becomes leader in the next term after TimeoutNow`, () => {
      const c = Cluster.create(['a', 'b', 'c']);
      c.elect('a');
      c.propose('a', 'w');
      const term = c.node('a').raft.term;
      c.clearLog();
      c.node('a').transferLeader(transferee);
      c.stabilize();
      assert.equal(c.sent(MessageType.TimeoutNow, { from: 'a', to: transferee }).length, 1);
      assert.equal(c.leader(), transferee);
      assert.equal(c.node(transferee).raft.term, term + 1, 'elected in the very next term');
      assert.equal(c.node('a').raft.role, Role.Follower);
      assert.equal(c.node('a').leader(), transferee);
      assert.equal(c.sent(MessageType.PreVote).length, 0, 'TimeoutNow skips the pre-vote round');
    });
  }

  test('§3.10 transfer to a lagging follower: the leader first sends the missing entries, then TimeoutNow', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.cut('a', 'b');
    for (let i = 0; i < 5; i++) c.propose('a', `w${i}`);
    c.heal();
    const a = c.node('a');
    const lastIndex = a.raft.log.lastIndex();
    assert.ok(c.node('b').raft.log.lastIndex() < lastIndex, 'b lags');
    const atTimeoutNow: Array<{ match: number; last: number }> = [];
    c.onSend = (m, sender) => {
      if (m.type === MessageType.TimeoutNow && sender === a) {
        atTimeoutNow.push({ match: a.raft.progress.get('b')?.match ?? -1, last: a.raft.log.lastIndex() });
      }
    };
    c.clearLog();
    a.transferLeader('b');
    c.stabilize();

    assert.equal(atTimeoutNow.length, 1, 'exactly one TimeoutNow');
    assert.deepEqual(
      atTimeoutNow[0],
      { match: lastIndex, last: lastIndex },
      'sent only once b matched the leader log',
    );
    const order = c.log.map((s) => s.msg).filter((m) => m.from === 'a' && m.to === 'b');
    const timeoutAt = order.findIndex((m) => m.type === MessageType.TimeoutNow);
    let lastAppendAt = -1;
    order.forEach((m, i) => {
      if (m.type === MessageType.App && m.entries.length > 0) lastAppendAt = i;
    });
    assert.ok(lastAppendAt >= 0, 'the leader sent b entries');
    assert.ok(lastAppendAt < timeoutAt, 'every append carrying entries precedes TimeoutNow');
    const carried = order.slice(0, timeoutAt).flatMap((m) => (m.type === MessageType.App ? m.entries : []));
    for (let i = 0; i < 5; i++)
      assert.ok(
        carried.some((e) => text(e.data) === `w${i}`),
        `w${i} sent before TimeoutNow`,
      );

    assert.equal(c.leader(), 'b');
    const bLog = c.entries('b').map((e) => text(e.data));
    for (let i = 0; i < 5; i++) assert.ok(bLog.includes(`w${i}`), `the new leader holds w${i}`);
  });

  test('§3.10 a transfer requested at a follower names the transferee, not the forwarding follower', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.node('c').transferLeader('b');
    c.stabilize();
    assert.equal(c.leader(), 'b', `leadership went to ${c.leader()}`);
  });

  test('§3.10 proposals are dropped while a transfer is in progress', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('b');
    const a = c.node('a');
    a.propose(bytes('before'));
    c.stabilize();
    a.transferLeader('b');
    c.stabilize();
    assert.equal(a.raft.leadTransferee, 'b');
    assert.throws(() => a.propose(bytes('during')), ProposalDroppedError);
    assert.throws(
      () => a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'd')),
      ProposalDroppedError,
    );
    c.stabilize();
    assert.ok(!c.entries('a').some((e) => text(e.data) === 'during'), 'nothing was appended');
  });

  test('§3.10 a transfer that cannot complete is abandoned after an election timeout', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('b');
    const a = c.node('a');
    a.transferLeader('b');
    c.stabilize();
    assert.equal(a.raft.leadTransferee, 'b');
    c.tickAll(ELECTION_TICKS - 1, ['a', 'c']);
    assert.equal(a.raft.leadTransferee, 'b', 'still trying within the election timeout');
    assert.throws(() => a.propose(bytes('early')), ProposalDroppedError);
    c.tickAll(1, ['a', 'c']);
    assert.equal(a.raft.leadTransferee, '', 'abandoned after an election timeout');
    assert.equal(a.raft.role, Role.Leader, 'and a keeps leading');
    a.propose(bytes('after'));
    c.stabilize();
    assert.ok(c.appliedData('c').includes('after'), 'proposals are accepted and committed again');
  });

  test('§3.10 transfer to a learner is refused', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.addNode('d');
    c.proposeConfChange('a', ConfChangeType.AddLearner, 'd');
    c.tickAll(4);
    assert.deepEqual(c.node('a').raft.confState().learners, ['d']);
    assert.throws(() => c.node('a').transferLeader('d'), ProposalDroppedError);
    assert.equal(c.node('a').raft.leadTransferee, '');
    c.tickAll(4);
    assert.equal(c.leader(), 'a');
    assert.equal(c.sent(MessageType.TimeoutNow).length, 0);
  });
});
