/**
 * Membership changes (Raft thesis §4.1–4.3): learners that catch up before
 * they count, one single-server change at a time, removal of followers and of
 * the leader, removed servers that cannot disrupt, and new members caught up
 * by snapshot (§5 log compaction / InstallSnapshot).
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
  type Entry,
  EntryType,
  encodeConfChange,
  MessageType,
  Role,
  text,
} from './harness.js';

/** A cluster a, b, c led by a, with learner d added and caught up. */
function withLearner(): Cluster {
  const c = Cluster.create(['a', 'b', 'c']);
  c.elect('a');
  for (let i = 0; i < 3; i++) c.propose('a', `w${i}`);
  c.addNode('d');
  c.proposeConfChange('a', ConfChangeType.AddLearner, 'd');
  c.tickAll(4);
  return c;
}

describe('§4.2.1 learners (non-voting members) catch up before they count', () => {
  test('§4.2.1 an added learner receives the whole log and the full membership', () => {
    const c = withLearner();
    const a = c.node('a');
    assert.deepEqual(a.raft.confState(), { voters: ['a', 'b', 'c'], learners: ['d'] });
    assert.deepEqual(
      c.node('d').raft.confState(),
      a.raft.confState(),
      "the learner's membership equals the leader's",
    );
    assert.equal(c.node('d').raft.log.lastIndex(), a.raft.log.lastIndex());
    assert.equal(c.storage('d').lastIndex(), a.raft.log.lastIndex(), 'persisted too');
    assert.deepEqual(c.appliedData('d'), ['w0', 'w1', 'w2']);
  });

  test("§4.2.1 learners' acknowledgements are not counted for commit", () => {
    const c = withLearner();
    c.addNode('e');
    c.proposeConfChange('a', ConfChangeType.AddLearner, 'e');
    c.tickAll(4);
    const a = c.node('a');
    assert.deepEqual(a.raft.confState(), { voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
    // With 2 of 3 voters down, leader + 2 learners would be 3 of 5 members: a majority only if learners counted.
    c.stop('b');
    c.stop('c');
    const commit = a.raft.log.committed;
    c.propose('a', 'x');
    c.tickAll(2 * 2, ['a', 'd', 'e']);
    const xIndex = a.raft.log.lastIndex();
    for (const l of ['d', 'e']) {
      assert.equal(text(c.entryAt(l, xIndex)?.data ?? new Uint8Array()), 'x', `${l} holds the entry`);
      assert.equal(a.raft.progress.get(l)?.match, xIndex, `and ${l} acknowledged it`);
    }
    assert.equal(a.raft.log.committed, commit, 'leader + learners are not a majority of the 3 voters');
    assert.ok(!c.appliedData('d').includes('x'));
    c.resume('b');
    c.tickAll(4, ['a', 'b', 'd', 'e']);
    assert.ok(a.raft.log.committed >= xIndex, 'a voter makes the majority');
  });

  test('§4.2.1 a learner never campaigns and is never asked for a vote', () => {
    const c = withLearner();
    c.clearLog();
    c.stop('a');
    c.tickUntil(() => c.leader() !== null && c.leader() !== 'a');
    c.tickAll(5 * ELECTION_TICKS);
    const votes = [MessageType.PreVote, MessageType.Vote];
    for (const t of votes) {
      assert.equal(c.sent(t, { from: 'd' }).length, 0, `d sent no ${MessageType[t]}`);
      assert.equal(c.sent(t, { to: 'd' }).length, 0, `nobody asked d for a ${MessageType[t]}`);
    }
    assert.ok(c.sent(MessageType.PreVote).length > 0, 'there was an election');
    assert.notEqual(c.leader(), 'd');
    assert.equal(c.node('d').raft.role, Role.Follower);
  });

  test('§4.2.1 a caught-up learner promoted with AddNode counts towards commit', () => {
    const c = withLearner();
    const a = c.node('a');
    assert.equal(a.raft.progress.get('d')?.match, a.raft.log.lastIndex(), 'd has caught up');
    c.proposeConfChange('a', ConfChangeType.AddNode, 'd');
    c.tickAll(4);
    for (const id of ['a', 'b', 'c', 'd']) {
      assert.deepEqual(c.node(id).raft.confState(), { voters: ['a', 'b', 'c', 'd'], learners: [] }, id);
    }
    // Four voters need three acks: with c down, a and b alone are not enough; d's ack makes it.
    c.stop('c');
    c.propose('a', 'y');
    const yIndex = a.raft.log.lastIndex();
    assert.ok(a.raft.log.committed >= yIndex, 'committed with a, b and the promoted d');
    c.resume('c');
    c.stop('b');
    c.stop('c');
    c.propose('a', 'z');
    assert.ok(a.raft.log.committed < a.raft.log.lastIndex(), 'two of four voters do not commit');
  });
});

describe('§4.1 one membership change at a time', () => {
  test('§4.1 a second proposeConfChange before the first is applied is dropped', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.addNode('d');
    c.addNode('e');
    const a = c.node('a');
    a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'd'));
    assert.throws(
      () => a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'e')),
      ProposalDroppedError,
    );
    c.stabilize();
    assert.deepEqual(a.raft.confState().learners, ['d']);
    a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'e'));
    c.stabilize();
    assert.deepEqual(a.raft.confState().learners, ['d', 'e'], 'accepted once the first was applied');
  });

  test('§4.1 two conf changes in one batch: only the first takes effect', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.addNode('d');
    c.addNode('e');
    const cc = (id: string): Entry => ({
      term: 0,
      index: 0,
      type: EntryType.ConfChange,
      data: encodeConfChange(confChange(ConfChangeType.AddLearner, id)),
    });
    c.node('a').proposeEntries([cc('d'), cc('e')]);
    c.stabilize();
    c.tickAll(4);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(c.node(id).raft.confState().learners, ['d'], id);
  });

  test('§4.1 a new leader cannot propose a conf change until it has committed an entry of its term', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.addNode('d');
    const noApp = c.addFilter((m) => m.from === 'a' && m.type === MessageType.App);
    c.elect('a');
    const a = c.node('a');
    assert.ok(a.raft.log.committed < a.raft.log.lastIndex(), 'the no-op is not committed');
    assert.throws(
      () => a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'd')),
      ProposalDroppedError,
    );
    noApp();
    c.tickUntil(() => a.raft.log.committed === a.raft.log.lastIndex(), 4 * ELECTION_TICKS, ['a']);
    a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'd'));
    c.stabilize();
    assert.deepEqual(a.raft.confState().learners, ['d']);
  });
});

describe('§4.1 removing members', () => {
  test('§4.1 removing a follower shrinks the quorum: commit proceeds with the remaining majority', () => {
    const c = Cluster.create(['a', 'b', 'c', 'd']);
    c.elect('a');
    const a = c.node('a');
    c.stop('d');
    c.stop('c');
    c.propose('a', 'x');
    assert.ok(a.raft.log.committed < a.raft.log.lastIndex(), 'a and b are not a majority of four');
    c.resume('c');
    c.tickAll(4, ['a', 'b', 'c']);
    assert.equal(a.raft.log.committed, a.raft.log.lastIndex());
    c.proposeConfChange('a', ConfChangeType.RemoveNode, 'd');
    c.tickAll(4, ['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) {
      assert.deepEqual(c.node(id).raft.confState(), { voters: ['a', 'b', 'c'], learners: [] }, id);
    }
    c.stop('c');
    c.propose('a', 'y');
    assert.equal(a.raft.log.committed, a.raft.log.lastIndex(), 'a and b are a majority of three');
    assert.ok(c.appliedData('b').includes('y'));
  });

  test('§4.2.2 removing the leader: it steps down once the change is applied and the rest elect a leader', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    const term = c.node('a').raft.term;
    c.proposeConfChange('a', ConfChangeType.RemoveNode, 'a');
    c.stabilize();
    assert.notEqual(c.node('a').raft.role, Role.Leader, 'the removed leader stepped down');
    c.clearLog();
    for (const id of ['b', 'c']) {
      assert.deepEqual(c.node(id).raft.confState().voters, ['b', 'c'], `${id} applied the removal`);
    }
    c.tickUntil(() => c.leader() === 'b' || c.leader() === 'c');
    const leader = c.leader()!;
    assert.ok(c.node(leader).raft.term > term);
    c.propose(leader, 'after');
    assert.ok(c.appliedData('b').includes('after') && c.appliedData('c').includes('after'));
    c.tickAll(5 * ELECTION_TICKS);
    assert.notEqual(c.node('a').raft.role, Role.Leader, 'the removed node never leads again');
    assert.equal(c.sent(MessageType.PreVote, { from: 'a' }).length, 0, 'nor campaigns');
  });

  test('§4.2.3 a removed node that never learns of its removal cannot disrupt the cluster (pre-vote + check-quorum)', () => {
    const c = Cluster.create(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    c.elect('a');
    c.isolate('c');
    c.proposeConfChange('a', ConfChangeType.RemoveNode, 'c');
    c.tickAll(2);
    assert.deepEqual(c.node('a').raft.confState().voters, ['a', 'b']);
    const term = c.node('a').raft.term;
    c.heal();
    c.clearLog();
    c.tickAll(10 * ELECTION_TICKS);
    assert.ok(c.node('c').raft.voters.has('c'), 'c never learned it was removed');
    assert.ok(c.sent(MessageType.PreVote, { from: 'c', delivered: true }).length > 0, 'c kept campaigning');
    assert.equal(c.leader(), 'a', 'the leader is undisturbed');
    assert.equal(c.node('a').raft.term, term);
    assert.equal(c.node('b').raft.term, term);
  });

  test('§4.1 refuse to remove (or demote) the last voter', () => {
    const c = Cluster.create(['a']);
    c.elect('a');
    const a = c.node('a');
    assert.throws(
      () => a.proposeConfChange(confChange(ConfChangeType.RemoveNode, 'a')),
      ProposalDroppedError,
    );
    assert.throws(
      () => a.proposeConfChange(confChange(ConfChangeType.AddLearner, 'a')),
      ProposalDroppedError,
    );
    c.stabilize();
    assert.deepEqual(a.raft.confState().voters, ['a']);
    assert.equal(a.raft.role, Role.Leader);
    // Control: with two voters, removing one is allowed.
    const c2 = Cluster.create(['a', 'b']);
    c2.elect('a');
    c2.proposeConfChange('a', ConfChangeType.RemoveNode, 'b');
    assert.deepEqual(c2.node('a').raft.confState().voters, ['a']);
  });
});

describe('§5 snapshots: a new member behind the compacted log is caught up by InstallSnapshot', () => {
  for (const type of [ConfChangeType.AddNode, ConfChangeType.AddLearner]) {
    test(`§5 compact the leader log, then ${ConfChangeType[type]} a new node: it gets a Snap and then the rest`, () => {
      const c = Cluster.create(['a', 'b', 'c']);
      c.elect('a');
      for (let i = 0; i < 20; i++) c.propose('a', `w${i}`);
      const snapIndex = c.compact('a', bytes('state@20'));
      assert.ok(c.node('a').raft.log.firstIndex() > 1, 'the leader log is compacted');
      c.addNode('d');
      c.clearLog();
      c.proposeConfChange('a', type, 'd');
      c.propose('a', 'after');
      c.tickAll(4);
      const snaps = c.sent(MessageType.Snap, { from: 'a', to: 'd' });
      assert.equal(snaps.length, 1, 'one snapshot was sent to d');
      assert.equal(snaps[0]?.snapshot?.meta.index, snapIndex);
      const a = c.node('a');
      const d = c.storage('d');
      assert.equal(d.snapshot().meta.index, snapIndex, "d installed the leader's snapshot");
      assert.equal(text(d.snapshot().data), 'state@20');
      assert.equal(d.lastIndex(), a.raft.log.lastIndex(), "d's storage ends at the leader's last index");
      assert.equal(c.node('d').raft.log.committed, a.raft.log.committed);
      assert.deepEqual(
        c.node('d').raft.confState(),
        a.raft.confState(),
        "d's membership equals the leader's",
      );
      assert.deepEqual(c.appliedData('d'), ['after'], 'd applied what came after the snapshot');
    });
  }

  test('§4.1 a new member added without compaction learns the full membership from the log', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.addNode('d');
    c.proposeConfChange('a', ConfChangeType.AddNode, 'd');
    c.tickAll(4);
    assert.deepEqual(c.node('d').raft.confState(), { voters: ['a', 'b', 'c', 'd'], learners: [] });
    assert.deepEqual(c.node('d').raft.confState(), c.node('a').raft.confState());
  });
});
