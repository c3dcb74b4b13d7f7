/**
 * Linearizable reads through ReadIndex (Raft thesis §6.4): the leader records
 * its commit index, proves it is still leader with a heartbeat round that a
 * quorum acknowledges, and only then hands out the read point — on itself or
 * on the follower that forwarded the request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../src/raft/index.js';
import { bytes, Cluster, ELECTION_TICKS, HEARTBEAT_TICKS, MessageType, Role, text } from './harness.js';

/** The ReadStates a node handed out for a context. */
function readsFor(c: Cluster, id: string, ctx: string): number[] {
  return c.readStates
    .get(id)!
    .filter((rs) => text(rs.context) === ctx)
    .map((rs) => rs.index);
}

describe('§6.4 ReadIndex on the leader', () => {
  const rows = [
    { down: [] as string[], answered: true },
    { down: ['c'], answered: true },
    { down: ['b', 'c'], answered: false },
  ];
  for (const row of rows) {
    test(`§6.4 a read on the leader with [${row.down.join(',')}] down is ${row.answered ? 'answered with the commit index after a quorum acknowledges the heartbeat' : 'not answered (no quorum acknowledges)'}`, () => {
      const c = Cluster.create(['a', 'b', 'c']);
      c.elect('a');
      for (let i = 0; i < 3; i++) c.propose('a', `w${i}`);
      for (const id of row.down) c.stop(id);
      const a = c.node('a');
      const commit = a.raft.log.committed;
      c.clearLog();
      a.readIndex(bytes('r1'));
      c.processReady('a');
      assert.deepEqual(readsFor(c, 'a', 'r1'), [], 'not answered before the heartbeat round');
      const beats = c.sent(MessageType.Heartbeat, { from: 'a' }).filter((m) => text(m.context) === 'r1');
      assert.equal(beats.length, 2, 'the read triggers a heartbeat round carrying its context');
      c.stabilize();
      c.tickAll(3 * HEARTBEAT_TICKS, ['a']);
      if (row.answered) {
        assert.deepEqual(readsFor(c, 'a', 'r1'), [commit], 'answered once, with the commit index');
      } else {
        assert.equal(a.raft.role, Role.Leader, 'still leader as far as it knows');
        assert.deepEqual(readsFor(c, 'a', 'r1'), [], 'a leader without a quorum must not answer');
      }
    });
  }

  test('§6.4 a read at a new leader waits until an entry of its term commits, then gets an index >= the no-op', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    const noApp = c.addFilter((m) => m.from === 'a' && m.type === MessageType.App);
    c.elect('a');
    const a = c.node('a');
    const noop = a.raft.log.lastIndex();
    assert.equal(a.raft.log.term(noop), a.raft.term, 'the last entry is the no-op of the new term');
    assert.ok(a.raft.log.committed < noop, 'the no-op is not committed yet');
    a.readIndex(bytes('early'));
    c.stabilize();
    c.tickAll(3 * HEARTBEAT_TICKS, ['a']);
    assert.equal(a.raft.role, Role.Leader);
    assert.ok(a.raft.log.committed < noop);
    assert.deepEqual(readsFor(c, 'a', 'early'), [], 'no ReadState before the no-op commits');

    noApp();
    c.tickUntil(() => readsFor(c, 'a', 'early').length > 0, 4 * ELECTION_TICKS, ['a']);
    assert.ok(a.raft.log.committed >= noop);
    const [index] = readsFor(c, 'a', 'early');
    assert.ok(index !== undefined && index >= noop, `read index ${index} is below the no-op ${noop}`);
  });

  test('§6.4 a leader partitioned from the majority never answers a read (no stale ReadState)', () => {
    for (const checkQuorum of [true, false]) {
      const c = Cluster.create(['a', 'b', 'c'], { checkQuorum });
      c.elect('a');
      c.propose('a', 'old');
      c.isolate('a');
      const a = c.node('a');
      a.readIndex(bytes('stale?'));
      c.stabilize();
      assert.equal(a.raft.role, Role.Leader, 'a still believes it leads');
      // The majority moves on and commits a write that a cannot know about.
      c.elect('b');
      c.propose('b', 'new');
      const newIndex = c.node('b').raft.log.committed;
      c.tickAll(3 * ELECTION_TICKS, ['a']);
      assert.deepEqual(
        readsFor(c, 'a', 'stale?'),
        [],
        `checkQuorum=${checkQuorum}: no ReadState while cut off`,
      );
      c.heal();
      c.tickAll(3 * ELECTION_TICKS);
      for (const index of readsFor(c, 'a', 'stale?')) {
        assert.ok(index >= newIndex, `a read point ${index} misses the committed write at ${newIndex}`);
      }
    }
  });
});

describe('§6.4 ReadIndex on a follower', () => {
  for (const follower of ['b', 'c']) {
    test(`§6.4 a read on follower ${follower} is forwarded to the leader and answered with the leader's commit index`, () => {
      const c = Cluster.create(['a', 'b', 'c']);
      c.elect('a');
      for (let i = 0; i < 3; i++) c.propose('a', `w${i}`);
      const commit = c.node('a').raft.log.committed;
      c.clearLog();
      c.node(follower).readIndex(bytes('f1'));
      c.stabilize();
      assert.equal(
        c.sent(MessageType.ReadIndex, { from: follower, to: 'a' }).length,
        1,
        'forwarded to the leader',
      );
      assert.equal(
        c.sent(MessageType.ReadIndexResp, { from: 'a', to: follower }).length,
        1,
        'the leader replies',
      );
      assert.deepEqual(readsFor(c, follower, 'f1'), [commit]);
      assert.deepEqual(
        readsFor(c, 'a', 'f1'),
        [],
        'the ReadState is handed out on the follower, not the leader',
      );
    });
  }

  test('§6.4 a forwarded read is answered only once a quorum acknowledges the leader', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.stop('c');
    // b's request reaches the leader, but b's heartbeat acknowledgements are lost: a has no quorum.
    const noAcks = c.addFilter((m) => m.from === 'b' && m.type === MessageType.HeartbeatResp);
    c.clearLog();
    c.node('b').readIndex(bytes('f2'));
    c.stabilize();
    c.tickAll(2 * HEARTBEAT_TICKS, ['a', 'b']);
    assert.equal(c.sent(MessageType.ReadIndex, { from: 'b', to: 'a', delivered: true }).length, 1);
    assert.deepEqual(readsFor(c, 'b', 'f2'), [], 'no answer without a quorum');
    noAcks();
    c.tickAll(2 * HEARTBEAT_TICKS, ['a', 'b']);
    assert.deepEqual(
      readsFor(c, 'b', 'f2'),
      [c.node('a').raft.log.committed],
      'answered once b acknowledges',
    );
  });

  test('§6.4 a follower that knows no leader refuses the read', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    assert.throws(() => c.node('b').readIndex(bytes('x')), ProposalDroppedError);
  });
});

describe('§6.4 batching of reads', () => {
  test('§6.4 many reads issued before one heartbeat round are all answered', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.propose('a', 'w');
    const commit = c.node('a').raft.log.committed;
    const contexts: Array<[string, string]> = [];
    for (let i = 0; i < 10; i++) {
      const id = ['a', 'b', 'c'][i % 3]!;
      contexts.push([id, `r${i}`]);
      c.node(id).readIndex(bytes(`r${i}`));
    }
    c.stabilize();
    for (const [id, ctx] of contexts) {
      assert.deepEqual(readsFor(c, id, ctx), [commit], `read ${ctx} on ${id}`);
    }
    const leaderReads = c.readStates.get('a')!.map((rs) => text(rs.context));
    assert.deepEqual(leaderReads, ['r0', 'r3', 'r6', 'r9'], 'leader reads are answered in request order');
  });
});
