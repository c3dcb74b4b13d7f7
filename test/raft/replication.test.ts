/**
 * Log replication rules: Raft §5.3 (log matching, repair, fast backtracking),
 * §5.4.2 (commit only by counting current-term entries: Figure 8), the no-op
 * of every new term (§8), the leader append-only property (§5.4, Figure 3),
 * and the leader's flow control and batching.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bytes,
  Cluster,
  ELECTION_TICKS,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  makeMessage,
  Role,
  text,
} from './harness.js';

/** A value view of entries (index, term, type, data as text) for deep comparisons. */
function view(entries: readonly Entry[]): Array<[number, number, EntryType, string]> {
  return entries.map((e) => [e.index, e.term, e.type, text(e.data)]);
}

describe('§5.3 log matching: the leader forces followers to duplicate its log', () => {
  test('§5.3 a follower with conflicting uncommitted entries from an old term has them overwritten', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('a');
    for (let i = 0; i < 3; i++) c.propose('a', `stale-${i}`);
    const staleIndexes = c
      .entries('a')
      .filter((e) => text(e.data).startsWith('stale-'))
      .map((e) => e.index);
    assert.equal(staleIndexes.length, 3);
    c.elect('b');
    c.propose('b', 'fresh-0');
    c.propose('b', 'fresh-1');
    const bTerm = c.node('b').raft.term;
    for (const i of staleIndexes) {
      assert.equal(c.entryAt('b', i)?.term, bTerm, `b has a different entry at ${i}`);
    }

    c.heal();
    c.tickUntil(
      () =>
        c.node('a').raft.log.lastIndex() === c.node('b').raft.log.lastIndex() &&
        c.node('a').raft.log.committed === c.node('b').raft.log.committed,
    );
    assert.deepEqual(view(c.entries('a')), view(c.entries('b')), 'a now holds exactly the leader log');
    assert.deepEqual(view(c.storedEntries('a')), view(c.entries('b')), 'and so does its storage');
    assert.ok(!c.entries('a').some((e) => text(e.data).startsWith('stale-')), 'the stale entries are gone');
    assert.ok(!c.appliedData('a').some((d) => d.startsWith('stale-')), 'they were never applied');
    assert.deepEqual(c.appliedData('a'), ['fresh-0', 'fresh-1']);
  });

  test('§5.3 a follower missing entries is caught up', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    const lastBefore = c.node('c').raft.log.lastIndex();
    assert.ok(lastBefore < c.node('a').raft.log.lastIndex(), 'c is behind');
    c.heal();
    c.tickAll(2 * 2);
    assert.deepEqual(view(c.entries('c')), view(c.entries('a')));
    assert.equal(c.node('c').raft.log.committed, c.node('a').raft.log.committed);
    assert.deepEqual(c.appliedData('c'), ['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  test('§5.3 fast backtracking: a 50-entry divergent tail is repaired in far fewer append rounds than entries', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    // a, cut off, piles up 50 entries of its term that nobody else gets.
    c.isolate('a');
    for (let i = 0; i < 50; i++) c.node('a').propose(bytes(`a-${i}`));
    c.stabilize();
    // b leads term 3 with 60 entries of its own, replicated to c.
    c.elect('b');
    for (let i = 0; i < 60; i++) c.node('b').propose(bytes(`b-${i}`));
    c.stabilize();
    // c, holding b's long log, takes over; its first probe to a is at its own last index.
    c.heal();
    c.isolate('b');
    c.clearLog();
    c.elect('c');
    c.tickUntil(() => c.node('a').raft.log.lastIndex() === c.node('c').raft.log.lastIndex());
    assert.deepEqual(view(c.entries('a')), view(c.entries('c')), 'a was repaired');
    const appsToA = c.sent(MessageType.App, { from: 'c', to: 'a' });
    const rejects = c.sent(MessageType.AppResp, { from: 'a', to: 'c' }).filter((m) => m.reject);
    assert.ok(appsToA.length < 10, `repair took ${appsToA.length} appends (${rejects.length} rejected)`);
    assert.ok(rejects.length >= 1, 'the repair did need backtracking');
  });
});

/**
 * Build Figure 8 (c) with five nodes s1..s5 (bootstrap entries 1..5 at term 1;
 * each leader's first entry is its no-op):
 *  (a) s1 leads term 2 and replicates its no-op (6) and a write (7) to s2 only;
 *  (b) s1 crashes; s5 leads term 3 (votes of s3, s4) and appends its no-op at 6; then crashes;
 *  (c) s1 restarts, leads term 4 (votes of s2, s3), appends its no-op at 8, and
 *      replicates 6 and 7 (term 2) to s3 — a majority s1, s2, s3 holds them —
 *      but the term-4 entry 8 does not reach s3.
 */
function figure8c(): { c: Cluster; releaseS3: () => void } {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  const c = Cluster.create(ids, { maxMsgEntries: 1 });
  // (a)
  const onlyToS2 = c.addFilter(
    (m) =>
      m.from === 's1' && m.to !== 's2' && (m.type === MessageType.App || m.type === MessageType.Heartbeat),
  );
  c.elect('s1');
  c.propose('s1', 'v2');
  onlyToS2();
  assert.deepEqual(
    view(c.entries('s2')).slice(5),
    [
      [6, 2, EntryType.Normal, ''],
      [7, 2, EntryType.Normal, 'v2'],
    ],
    '(a) s2 holds s1 term-2 entries',
  );
  assert.equal(c.node('s1').raft.log.committed, 5, '(a) two of five replicas: not committed');
  // (b)
  c.stop('s1');
  const s5Silent = c.addFilter(
    (m) => m.from === 's5' && (m.type === MessageType.App || m.type === MessageType.Heartbeat),
  );
  c.elect('s5');
  assert.equal(c.node('s5').raft.term, 3);
  assert.deepEqual(
    view(c.entries('s5')).slice(5),
    [[6, 3, EntryType.Normal, '']],
    '(b) s5 appended its no-op at 6',
  );
  c.stop('s5');
  s5Silent();
  // (c)
  c.restart('s1');
  c.cut('s1', 's4');
  const releaseS3 = c.addFilter(
    (m) =>
      m.from === 's1' &&
      m.to === 's3' &&
      m.type === MessageType.App &&
      m.entries.some((e) => e.index >= 8) &&
      // Let the first probe through (s3 rejects it: it lacks 6 and 7); once s3 matches, lose entry 8.
      (c.node('s1').raft.progress.get('s3')?.match ?? 0) >= 6,
  );
  c.elect('s1');
  assert.equal(c.node('s1').raft.term, 4);
  assert.deepEqual(c.entryAt('s1', 8) && [c.entryAt('s1', 8)!.term, text(c.entryAt('s1', 8)!.data)], [4, '']);
  return { c, releaseS3 };
}

describe('§5.4.2 commit only by counting replicas of current-term entries (Figure 8)', () => {
  test('§5.4.2 Figure 8 (c): an old-term entry on a majority is not committed until a current-term entry is', () => {
    const { c, releaseS3 } = figure8c();
    const s1 = c.node('s1');
    for (const id of ['s1', 's2', 's3']) {
      assert.equal(c.entryAt(id, 7)?.term, 2, `${id} holds the term-2 entry at 7`);
    }
    assert.equal(c.entryAt('s3', 8), undefined, 's3 does not have the term-4 entry');
    const holders = [...s1.raft.progress].filter(([id, pr]) => s1.raft.voters.has(id) && pr.match >= 7);
    assert.equal(holders.length, 3, 'the leader knows a majority holds index 7');
    assert.equal(s1.raft.log.committed, 5, 'counting replicas of term-2 entries must not commit them');
    assert.ok(!c.appliedData('s1').includes('v2'), 'the old entry is not applied');

    // (e) once the term-4 entry reaches the majority, it commits, and the old ones with it.
    releaseS3();
    c.tickUntil(() => s1.raft.log.committed >= 8, 4 * ELECTION_TICKS, ['s1']);
    assert.equal(c.entryAt('s3', 8)?.term, 4);
    assert.equal(s1.raft.log.committed, 8);
    assert.ok(c.appliedData('s1').includes('v2'));
  });

  test('§5.4.2 Figure 8 (d): the uncommitted old-term entry can be legally overwritten by s5', () => {
    const { c } = figure8c();
    assert.equal(c.node('s1').raft.log.committed, 5);
    // s1 crashes again; s5 returns and wins with s3 and s4 (its last term 3 beats their term 2 / term 1).
    c.stop('s1');
    c.clearFilters();
    c.heal();
    c.restart('s5');
    c.elect('s5');
    c.tickUntil(
      () => c.node('s3').raft.log.committed === c.node('s5').raft.log.lastIndex(),
      4 * ELECTION_TICKS,
      ['s5'],
    );
    for (const id of ['s3', 's4', 's5']) {
      assert.equal(c.entryAt(id, 6)?.term, 3, `${id} now has s5's entry at 6`);
      assert.ok(!c.entries(id).some((e) => text(e.data) === 'v2'), `the term-2 write is gone from ${id}`);
    }
    assert.ok(c.node('s5').raft.log.committed >= 7, 's5 committed over the old entries');
    // Had s1 committed index 7 in (c), a committed entry would now be lost: the rule above prevents it.
  });
});

describe('§8 a new leader appends a no-op entry at the start of its term', () => {
  test('§8 each of three successive leaders starts its term with an empty Normal entry', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    for (const [leader, previous] of [
      ['a', null],
      ['b', 'a'],
      ['c', 'b'],
    ] as const) {
      if (previous) c.isolate(previous);
      const lastBefore = c.node(leader).raft.log.lastIndex();
      c.elect(leader);
      const r = c.node(leader).raft;
      const first = c.entries(leader).find((e) => e.term === r.term);
      assert.ok(first, `${leader} has an entry of its term ${r.term}`);
      assert.equal(first.index, lastBefore + 1, 'it is the first entry the new leader appends');
      assert.equal(first.type, EntryType.Normal);
      assert.equal(first.data.byteLength, 0, 'the first entry of the term is a no-op');
      c.propose(leader, `${leader}-write`);
      c.heal();
      c.tickAll(4);
      assert.equal(c.node('a').raft.log.committed, r.log.committed, 'everyone caught up');
    }
  });
});

describe('§5.4 leader append-only: a leader never overwrites or deletes entries in its log', () => {
  const rows: Array<{ name: string; msg: (term: number, last: number, committed: number) => Message }> = [
    {
      name: 'an App of its own term that conflicts with its uncommitted tail',
      msg: (term, _last, committed) =>
        makeMessage({
          type: MessageType.App,
          from: 'b',
          to: 'a',
          term,
          index: committed,
          logTerm: term,
          entries: [
            { term: term - 1, index: committed + 1, type: EntryType.Normal, data: bytes('evil') },
            { term: term - 1, index: committed + 2, type: EntryType.Normal, data: bytes('evil') },
          ],
          commit: committed,
        }),
    },
    {
      name: 'an App of its own term that would truncate back to the bootstrap entries',
      msg: (term) =>
        makeMessage({
          type: MessageType.App,
          from: 'b',
          to: 'a',
          term,
          index: 3,
          logTerm: 1,
          entries: [{ term, index: 4, type: EntryType.Normal, data: bytes('evil') }],
        }),
    },
    {
      name: 'an App of an older term',
      msg: (term) =>
        makeMessage({
          type: MessageType.App,
          from: 'b',
          to: 'a',
          term: term - 1,
          index: 3,
          logTerm: 1,
          entries: [{ term: term - 1, index: 4, type: EntryType.Normal, data: bytes('evil') }],
        }),
    },
    {
      name: 'a Snap of its own term',
      msg: (term, last) =>
        makeMessage({
          type: MessageType.Snap,
          from: 'b',
          to: 'a',
          term,
          snapshot: {
            meta: { index: last + 5, term, confState: { voters: ['b'], learners: [] } },
            data: bytes('evil'),
          },
        }),
    },
    {
      name: 'a rejection with a zero hint',
      msg: (term, last) =>
        makeMessage({
          type: MessageType.AppResp,
          from: 'b',
          to: 'a',
          term,
          index: last,
          reject: true,
          rejectHint: 0,
          logTermHint: 0,
        }),
    },
  ];
  for (const row of rows) {
    test(`§5.4 the leader ignores ${row.name}`, () => {
      const c = Cluster.create(['a', 'b', 'c']);
      c.elect('a');
      for (let i = 0; i < 4; i++) c.propose('a', `v${i}`);
      // Leave an uncommitted tail too: only committed entries are protected by anything but this rule.
      c.stop('b');
      c.stop('c');
      for (let i = 0; i < 3; i++) c.propose('a', `u${i}`);
      const a = c.node('a');
      assert.ok(a.raft.log.committed < a.raft.log.lastIndex() - 2);
      const before = view(c.entries('a'));
      a.step(row.msg(a.raft.term, a.raft.log.lastIndex(), a.raft.log.committed));
      c.stabilize();
      assert.equal(a.raft.role, Role.Leader);
      assert.deepEqual(view(c.entries('a')), before, 'the leader log is unchanged');
      assert.deepEqual(view(c.storedEntries('a')), before, 'and so is its storage');
    });
  }

  test('§5.4 through proposals, a partition and a lagging follower, the leader log only grows', () => {
    const c = Cluster.create(['a', 'b', 'c']);
    c.elect('a');
    let prev = view(c.entries('a'));
    const check = (step: string) => {
      const now = view(c.entries('a'));
      assert.ok(now.length >= prev.length, `${step}: log shrank`);
      assert.deepEqual(now.slice(0, prev.length), prev, `${step}: an existing entry changed`);
      prev = now;
    };
    for (let i = 0; i < 5; i++) {
      c.propose('a', `x${i}`);
      check(`propose x${i}`);
    }
    c.isolate('c');
    for (let i = 0; i < 5; i++) {
      c.propose('a', `y${i}`);
      c.tickAll(1);
      check(`propose y${i}`);
    }
    c.heal();
    c.tickAll(6);
    check('after heal');
    assert.equal(c.node('a').raft.role, Role.Leader);
  });
});

describe('flow control: bounded appends in flight per follower', () => {
  for (const maxInflightMsgs of [1, 2, 4]) {
    test(`maxInflightMsgs=${maxInflightMsgs}: a follower that never answers has at most ${maxInflightMsgs} appends outstanding`, () => {
      const c = Cluster.create(['a', 'b', 'c'], { maxInflightMsgs });
      c.elect('a');
      c.propose('a', 'warm-up');
      c.dropLink('b', 'a');
      c.clearLog();
      for (let i = 0; i < 20; i++) {
        c.propose('a', `v${i}`);
        c.tickAll(1);
      }
      const withEntries = c.sent(MessageType.App, { from: 'a', to: 'b' }).filter((m) => m.entries.length > 0);
      assert.equal(withEntries.length, maxInflightMsgs, 'the window fills and then holds');
      assert.equal(c.node('a').raft.progress.get('b')?.inflights.count(), maxInflightMsgs);
      // The answering follower is not held back.
      assert.equal(c.node('c').raft.log.lastIndex(), c.node('a').raft.log.lastIndex());
      assert.equal(c.node('a').raft.log.committed, c.node('a').raft.log.lastIndex());
    });
  }
});

describe('batching: at most maxMsgEntries entries in one append', () => {
  for (const maxMsgEntries of [1, 4, 7]) {
    test(`maxMsgEntries=${maxMsgEntries}: a 10-entry proposal goes out in appends of at most ${maxMsgEntries} entries`, () => {
      const c = Cluster.create(['a', 'b', 'c'], { maxMsgEntries });
      c.elect('a');
      c.propose('a', 'warm-up');
      c.clearLog();
      const batch: Entry[] = [];
      for (let i = 0; i < 10; i++)
        batch.push({ term: 0, index: 0, type: EntryType.Normal, data: bytes(`v${i}`) });
      c.node('a').proposeEntries(batch);
      c.stabilize();
      const apps = c.sent(MessageType.App, { from: 'a', to: 'b' }).filter((m) => m.entries.length > 0);
      for (const m of apps)
        assert.ok(m.entries.length <= maxMsgEntries, `an append carried ${m.entries.length}`);
      assert.ok(apps.length >= Math.ceil(10 / maxMsgEntries));
      assert.deepEqual(
        c.appliedData('b').slice(1),
        batch.map((e) => text(e.data)),
      );
    });

    test(`maxMsgEntries=${maxMsgEntries}: catching up a lagging follower respects the batch limit`, () => {
      const c = Cluster.create(['a', 'b', 'c'], { maxMsgEntries });
      c.elect('a');
      c.isolate('b');
      for (let i = 0; i < 10; i++) c.propose('a', `v${i}`);
      c.clearLog();
      c.heal();
      c.tickAll(4);
      const apps = c.sent(MessageType.App, { from: 'a', to: 'b' }).filter((m) => m.entries.length > 0);
      for (const m of apps)
        assert.ok(m.entries.length <= maxMsgEntries, `an append carried ${m.entries.length}`);
      assert.equal(c.node('b').raft.log.lastIndex(), c.node('a').raft.log.lastIndex());
      assert.equal(c.appliedData('b').length, 10);
    });
  }
});
