/**
 * Leader election rules: Raft §5.2 (timeouts, one vote per term), §5.4.1 (the
 * election restriction), and the thesis's pre-vote (§9.6), check-quorum
 * (§6.2) and leader lease (§4.2.3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cluster, ELECTION_TICKS, type Message, MessageType, makeMessage, Role } from './harness.js';

/** The single reply of `type` in msgs. */
function reply(msgs: Message[], type: MessageType): Message | undefined {
  const rs = msgs.filter((m) => m.type === type);
  assert.ok(rs.length <= 1, `expected at most one ${MessageType[type]}, got ${rs.length}`);
  return rs[0];
}

describe('§5.2 leader election: a node that times out campaigns and wins with a majority', () => {
  const rows = [
    { preVote: true, down: 0, wins: true },
    { preVote: true, down: 1, wins: true },
    { preVote: true, down: 2, wins: true },
    { preVote: true, down: 3, wins: false },
    { preVote: false, down: 0, wins: true },
    { preVote: false, down: 2, wins: true },
    { preVote: false, down: 3, wins: false },
  ];
  for (const row of rows) {
    test(`§5.2 preVote=${row.preVote}, 5 voters with ${row.down} down → ${row.wins ? 'elected' : 'not elected'}`, () => {
      const c = Cluster.create(['a', 'b', 'c', 'd', 'e'], { preVote: row.preVote });
      for (const id of ['e', 'd', 'c'].slice(0, row.down)) c.stop(id);
      const a = c.node('a');
      // Tick a alone, looking at its role right after the tick that fires (before any reply).
      let ticks = 0;
      while (a.raft.role === Role.Follower) {
        assert.ok(ticks < 2 * ELECTION_TICKS, 'a never timed out');
        a.tick();
        ticks++;
        if (a.raft.role === Role.Follower) c.stabilize();
      }
      assert.ok(ticks >= ELECTION_TICKS, `campaigned after ${ticks} ticks, before the election timeout`);
      if (row.preVote) {
        assert.equal(a.raft.role, Role.PreCandidate);
        assert.equal(a.raft.term, 1, 'a pre-candidate keeps its term');
      } else {
        assert.equal(a.raft.role, Role.Candidate);
        assert.equal(a.raft.term, 2, 'a candidate increments its term');
        assert.equal(a.raft.vote, 'a', 'a candidate votes for itself');
      }
      c.stabilize();
      if (row.wins) {
        assert.equal(a.raft.role, Role.Leader);
        assert.equal(a.raft.term, 2);
        for (const id of c.ids()) {
          if (id === 'a' || !c.isUp(id)) continue;
          assert.equal(c.node(id).raft.role, Role.Follower, `${id} follows`);
          assert.equal(c.node(id).raft.term, 2, `${id} is in the leader's term`);
          assert.equal(c.node(id).leader(), 'a', `${id} knows the leader`);
        }
      } else {
        assert.notEqual(a.raft.role, Role.Leader, 'no leader without a majority');
        assert.equal(c.leader(), null);
      }
    });
  }
});

describe('§5.2 each server votes for at most one candidate in a term', () => {
  test('§5.2 a node that voted for b in term T rejects c in term T, re-grants b, and grants c in T+1', () => {
    const c = Cluster.create(['a', 'b', 'c'], { checkQuorum: false, preVote: false });
    const a = c.node('a');
    const vote = (from: string, term: number) =>
      makeMessage({ type: MessageType.Vote, from, to: 'a', term, index: 3, logTerm: 1 });

    a.step(vote('b', 5));
    const r1 = reply(c.takeMessages('a'), MessageType.VoteResp);
    assert.ok(r1 && !r1.reject, 'first request in term 5 is granted');
    assert.equal(c.storage('a').persistedHardState().vote, 'b', 'the vote is persisted before the reply');
    assert.equal(c.storage('a').persistedHardState().term, 5);

    a.step(vote('c', 5));
    const r2 = reply(c.takeMessages('a'), MessageType.VoteResp);
    assert.ok(r2?.reject, 'a second candidate in the same term is rejected');
    assert.equal(a.raft.vote, 'b');
    assert.equal(c.storage('a').persistedHardState().vote, 'b');

    a.step(vote('b', 5));
    const r3 = reply(c.takeMessages('a'), MessageType.VoteResp);
    assert.ok(r3 && !r3.reject, 'a repeated request from the same candidate is granted again');

    a.step(vote('c', 6));
    const r4 = reply(c.takeMessages('a'), MessageType.VoteResp);
    assert.ok(r4 && !r4.reject, 'a new term frees the vote');
    assert.equal(c.storage('a').persistedHardState().vote, 'c');
  });
});

describe('§5.4.1 election restriction: vote only for a candidate whose log is at least as up-to-date', () => {
  // The voter's log: bootstrap entries 1..3 at term 1, then entries 4 and 5 at term 2 → (lastTerm 2, lastIndex 5).
  const rows = [
    { name: 'higher last term, shorter log', lastTerm: 3, lastIndex: 4, grant: true },
    { name: 'higher last term, longer log', lastTerm: 3, lastIndex: 8, grant: true },
    { name: 'same last term, shorter log', lastTerm: 2, lastIndex: 4, grant: false },
    { name: 'same last term, equal log', lastTerm: 2, lastIndex: 5, grant: true },
    { name: 'same last term, longer log', lastTerm: 2, lastIndex: 6, grant: true },
    { name: 'lower last term, longer log', lastTerm: 1, lastIndex: 10, grant: false },
    { name: 'lower last term, shorter log', lastTerm: 1, lastIndex: 3, grant: false },
  ];
  for (const type of [MessageType.Vote, MessageType.PreVote]) {
    for (const row of rows) {
      test(`§5.4.1 ${MessageType[type]}: candidate with ${row.name} (${row.lastTerm}, ${row.lastIndex}) vs voter (2, 5) → ${row.grant ? 'grant' : 'reject'}`, () => {
        const c = new Cluster(7);
        const v = c.addNode('v', { founders: ['v', 'x', 'y'], extraTerms: [2, 2] });
        c.stabilize();
        assert.equal(v.raft.log.lastIndex(), 5);
        assert.equal(v.raft.log.lastTerm(), 2);
        v.step(
          makeMessage({
            type,
            from: 'x',
            to: 'v',
            term: 4,
            index: row.lastIndex,
            logTerm: row.lastTerm,
          }),
        );
        const resp = reply(
          c.takeMessages('v'),
          type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp,
        );
        assert.ok(resp, 'the voter answers');
        assert.equal(!resp.reject, row.grant);
        if (type === MessageType.Vote) assert.equal(v.raft.vote, row.grant ? 'x' : '');
        else assert.equal(v.raft.term, 2, 'a pre-vote request never moves the voter to its term');
      });
    }
  }
});

describe('§9.6 pre-vote', () => {
  for (const preVote of [true, false]) {
    test(`§9.6 preVote=${preVote}: a partitioned follower that rejoins ${preVote ? 'does not' : 'does'} disturb the stable leader`, () => {
      const c = Cluster.create(['a', 'b', 'c'], { preVote, checkQuorum: true });
      c.elect('a');
      const term = c.node('a').raft.term;
      c.isolate('c');
      c.tickAll(5 * ELECTION_TICKS);
      assert.equal(c.leader(), 'a', 'a keeps leading the majority meanwhile');
      if (preVote)
        assert.equal(c.node('c').raft.term, term, 'pre-vote kept the partitioned node at its term');
      else assert.ok(c.node('c').raft.term > term, 'without pre-vote the partitioned node inflates its term');

      c.heal();
      c.tickAll(3 * ELECTION_TICKS);
      if (preVote) {
        assert.equal(c.leader(), 'a', 'the leader is undisturbed');
        for (const id of ['a', 'b', 'c']) {
          assert.equal(c.node(id).raft.term, term, `${id}'s term is unchanged`);
        }
        assert.equal(c.node('c').raft.role, Role.Follower);
        assert.equal(c.node('c').leader(), 'a', 'the rejoined node follows the leader');
      } else {
        assert.ok(c.node('a').raft.term > term, 'the rejoined node forced a new term on the leader');
      }
    });
  }

  test('§9.6 a pre-candidate does not change its term or vote, however often it pre-campaigns', () => {
    const c = Cluster.create(['a', 'b', 'c'], { preVote: true });
    c.elect('a');
    const term = c.node('c').raft.term;
    const vote = c.node('c').raft.vote;
    c.isolate('c');
    c.clearLog();
    let preCandidacies = 0;
    for (let i = 0; i < 6 * ELECTION_TICKS; i++) {
      c.tick('c');
      if (c.node('c').raft.role === Role.PreCandidate) preCandidacies++;
      assert.equal(c.node('c').raft.term, term, `term moved at tick ${i}`);
      assert.equal(c.node('c').raft.vote, vote);
      assert.equal(c.storage('c').persistedHardState().term, term, 'persisted term moved');
    }
    assert.ok(preCandidacies > 0, 'c did become a pre-candidate');
    const preVotes = c.sent(MessageType.PreVote, { from: 'c' });
    assert.ok(preVotes.length >= 4, 'c pre-campaigned repeatedly');
    for (const m of preVotes) assert.equal(m.term, term + 1, 'a pre-vote asks about the next term');
    assert.equal(
      c.sent(MessageType.Vote, { from: 'c' }).length,
      0,
      'no real election without a pre-vote majority',
    );
  });
});

describe('§6.2 check-quorum: a leader that hears from no majority steps down', () => {
  for (const checkQuorum of [true, false]) {
    test(`§6.2 checkQuorum=${checkQuorum}: an isolated leader ${checkQuorum ? 'steps down within two election timeouts' : 'stays leader'}`, () => {
      const c = Cluster.create(['a', 'b', 'c'], { checkQuorum });
      c.elect('a');
      c.tickAll(3);
      const term = c.node('a').raft.term;
      c.isolate('a');
      let steppedDownAt = -1;
      for (let i = 1; i <= 5 * ELECTION_TICKS; i++) {
        c.tick('a');
        if (c.node('a').raft.role !== Role.Leader) {
          steppedDownAt = i;
          break;
        }
      }
      if (checkQuorum) {
        assert.ok(steppedDownAt > 0, 'the isolated leader never stepped down');
        assert.ok(steppedDownAt <= 2 * ELECTION_TICKS, `stepped down only after ${steppedDownAt} ticks`);
        assert.equal(c.node('a').raft.role, Role.Follower);
        assert.equal(c.node('a').raft.term, term, 'stepping down does not change the term');
      } else {
        assert.equal(steppedDownAt, -1, 'without check-quorum nothing makes it step down');
      }
    });
  }
});

describe('§4.2.3 leader lease: a follower that heard from its leader recently ignores a higher-term vote request', () => {
  for (const type of [MessageType.Vote, MessageType.PreVote]) {
    for (const checkQuorum of [true, false]) {
      test(`§4.2.3 ${MessageType[type]} at term+1 to a follower in lease, checkQuorum=${checkQuorum} → ${checkQuorum ? 'ignored' : 'considered'}`, () => {
        const c = Cluster.create(['a', 'b', 'c'], { checkQuorum, preVote: true });
        c.elect('a');
        c.tickAll(3);
        const b = c.node('b');
        const term = b.raft.term;
        assert.equal(b.leader(), 'a');
        // c's log is as up-to-date as b's: only the lease can justify ignoring it.
        b.step(
          makeMessage({
            type,
            from: 'c',
            to: 'b',
            term: term + 1,
            index: b.raft.log.lastIndex(),
            logTerm: b.raft.log.lastTerm(),
          }),
        );
        const msgs = c.takeMessages('b');
        const respType = type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
        const resp = reply(msgs, respType);
        if (checkQuorum) {
          assert.equal(resp, undefined, 'the request is dropped without an answer');
          assert.equal(b.raft.term, term, 'the term is unchanged');
          assert.equal(b.leader(), 'a', 'the follower still follows its leader');
        } else {
          assert.ok(resp && !resp.reject, 'without the lease an up-to-date candidate gets the vote');
          if (type === MessageType.Vote) assert.equal(b.raft.term, term + 1);
        }
        c.stabilize();
        if (checkQuorum) {
          assert.equal(c.leader(), 'a');
          assert.equal(c.node('a').raft.term, term, 'the leader is undisturbed');
        }
      });
    }
  }
});
