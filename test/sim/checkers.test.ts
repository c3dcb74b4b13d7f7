import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bootstrapLog,
  type Entry,
  EntryType,
  MemoryStorage,
  Prng,
  RawNode,
  Role,
} from '../../src/raft/index.js';
import { SafetyCheckers } from './checkers.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const entry = (index: number, term: number, data: string): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: bytes(data),
});

/** A node whose log is exactly `tail` after the bootstrap entries of a 3-node cluster. */
function nodeWithLog(id: string, tail: Entry[]): RawNode {
  const s = new MemoryStorage();
  const boot = bootstrapLog(['a', 'b', 'c']);
  s.append([...boot.entries, ...tail]);
  s.setHardState({ ...boot.hardState, term: 5 });
  return new RawNode({ id, storage: s, rng: new Prng(1), electionTicks: 10, heartbeatTicks: 1 });
}

// The simulator is only as good as its checkers: each must fire on the violation it names.
describe('simulator safety checkers', () => {
  test('election safety (§5.2): two leaders in one term are reported', () => {
    const c = new SafetyCheckers();
    const a = nodeWithLog('a', []);
    const b = nodeWithLog('b', []);
    for (const n of [a, b]) {
      n.raft.role = Role.Leader;
      n.raft.term = 7;
    }
    c.observeRole(1, a);
    assert.deepEqual(c.violations, []);
    c.observeRole(2, b);
    assert.match(c.violations[0] ?? '', /election safety: a and b both leaders of term 7/);
  });

  test('log matching (§5.3): same index and term but different earlier entries are reported', () => {
    const c = new SafetyCheckers();
    const a = nodeWithLog('a', [entry(4, 2, 'x'), entry(5, 3, 'p')]);
    const b = nodeWithLog('b', [entry(4, 2, 'y'), entry(5, 3, 'p')]);
    c.checkLogMatching(1, [a, b]);
    assert.match(c.violations[0] ?? '', /log matching: a and b agree on term at 5 but differ at 4/);
    const ok = new SafetyCheckers();
    ok.checkLogMatching(1, [a, nodeWithLog('c', [entry(4, 2, 'x'), entry(5, 4, 'q')])]);
    assert.deepEqual(ok.violations, [], 'divergent tails after the last common term are allowed');
  });

  test('state machine safety (§5.4.3): different entries applied at one index are reported', () => {
    const c = new SafetyCheckers();
    c.observeApply(1, 'a', entry(9, 2, 'x'), 2);
    c.observeApply(2, 'b', entry(9, 2, 'x'), 3);
    assert.deepEqual(c.violations, []);
    c.observeApply(3, 'c', entry(9, 3, 'x'), 3);
    assert.match(c.violations[0] ?? '', /state machine safety: c applied a different entry at index 9/);
  });

  test('leader completeness (§5.4): a later leader missing or contradicting a committed entry is reported', () => {
    const c = new SafetyCheckers();
    c.observeApply(1, 'a', entry(4, 2, 'x'), 2);
    c.observeApply(1, 'a', entry(5, 2, 'y'), 2);
    const short = nodeWithLog('b', [entry(4, 2, 'x')]);
    short.raft.role = Role.Leader;
    short.raft.term = 6;
    c.observeRole(2, short);
    assert.match(
      c.violations[0] ?? '',
      /leader completeness: b leads term 6 with last index 4 < index 5 committed by term 2/,
    );
    const wrong = nodeWithLog('c', [entry(4, 3, 'z'), entry(5, 3, 'y')]);
    wrong.raft.role = Role.Leader;
    wrong.raft.term = 7;
    c.observeRole(3, wrong);
    assert.match(
      c.violations[1] ?? '',
      /leader completeness: c \(term 7\) holds a different entry at index 4, committed by term 2/,
    );
  });

  test('leader completeness (§5.4): a stale leader of an earlier term may lack entries committed later', () => {
    // Seed 3052 once: a delayed vote made n3 leader of term 3 after term 4 had committed index 7.
    const c = new SafetyCheckers();
    c.observeApply(1, 'a', entry(4, 4, 'x'), 4);
    const stale = nodeWithLog('b', []);
    stale.raft.role = Role.Leader;
    stale.raft.term = 3;
    c.observeRole(2, stale);
    assert.deepEqual(c.violations, []);
  });
});
