import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadBarrier } from '../../src/node/read-barrier.js';
import { ProposalDroppedError } from '../../src/raft/index.js';

/** A node as the barrier sees it: records the rounds asked, applied index set by the test. */
function host(opts: { refuse?: string } = {}) {
  const h = {
    applied: 0,
    rounds: [] as Buffer[],
    pumps: 0,
    readIndex(ctx: Buffer) {
      if (opts.refuse !== undefined) throw new ProposalDroppedError(opts.refuse);
      h.rounds.push(ctx);
    },
    appliedIndex: () => h.applied,
    schedulePump() {
      h.pumps++;
    },
    refused: (detail: string) => new Error(`refused: ${detail}`),
    timedOut: () => new Error('read timed out'),
  };
  return h;
}

/** A barrier over a fresh host. */
function barrier(opts: { refuse?: string } = {}) {
  const h = host(opts);
  return { h, b: new ReadBarrier(h) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const later = () => Date.now() + 10_000;
/** Whether `p` has settled, after letting pending callbacks run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await turn();
  return done;
}

describe('ReadBarrier', () => {
  test('the reads of one turn share one ReadIndex round and are answered together', async () => {
    const { h, b } = barrier();
    h.applied = 7;
    const reads = [b.wait(later()), b.wait(later()), b.wait(later())];
    await turn();
    assert.equal(h.rounds.length, 1);
    assert.equal(h.pumps, 1);
    assert.ok(b.busy());
    b.answered(h.rounds[0]!, 7);
    await Promise.all(reads);
    assert.equal(b.busy(), false);
    // A read of a later turn asks a round of its own, with a new context.
    const next = b.wait(later());
    await turn();
    assert.equal(h.rounds.length, 2);
    assert.notDeepEqual(h.rounds[1], h.rounds[0]);
    b.answered(h.rounds[1]!, 7);
    await next;
  });

  test('a read waits for the applied index to reach its round, not past it', async () => {
    const { h, b } = barrier();
    h.applied = 3;
    const read = b.wait(later());
    await turn();
    b.answered(h.rounds[0]!, 5);
    assert.equal(await settled(read), false);
    h.applied = 4;
    b.appliedMoved();
    assert.equal(await settled(read), false);
    h.applied = 5;
    b.appliedMoved();
    assert.equal(await settled(read), true);
    await read;
    assert.equal(b.busy(), false);
  });

  test('an answer for a round it did not ask is ignored', async () => {
    const { h, b } = barrier();
    const read = b.wait(later());
    await turn();
    b.answered(Buffer.from('0000000000000063', 'hex'), 1);
    assert.equal(await settled(read), false);
    b.answered(h.rounds[0]!, 0);
    await read;
  });

  test('a round the core refuses (no leader) fails its reads with the host error', async () => {
    const { h, b } = barrier({ refuse: 'no leader' });
    const reads = [b.wait(later()), b.wait(later())];
    for (const r of reads) await assert.rejects(r, /refused: no leader/);
    assert.equal(b.busy(), false);
    assert.equal(h.pumps, 0);
  });

  test('past the deadline: rejected, and the read leaves its round and the applied-index list', async () => {
    const { h, b } = barrier();
    // Its round is never answered (a lost message): the round goes with its last read.
    await assert.rejects(b.wait(Date.now() + 20), /read timed out/);
    assert.equal(h.rounds.length, 1);
    assert.equal(b.busy(), false);
    const read = b.wait(Date.now() + 50);
    await turn();
    b.answered(h.rounds[1]!, 9);
    await assert.rejects(read, /read timed out/);
    // The second read left the applied-index list when it timed out (the applied index never moved).
    assert.equal(b.busy(), false);
    // A late answer for the dropped round finds nothing to answer.
    b.answered(h.rounds[0]!, 0);
    assert.equal(b.busy(), false);
  });

  test('a read that times out leaves its round to the reads still in it', async () => {
    const { h, b } = barrier();
    h.applied = 4;
    const early = b.wait(Date.now() + 20);
    const patient = b.wait(later());
    await assert.rejects(early, /read timed out/);
    assert.ok(b.busy(), 'the round still has a read');
    b.answered(h.rounds[0]!, 4);
    await patient;
    assert.equal(b.busy(), false);
  });

  test('rejectAll fails the reads in every stage', async () => {
    const { h, b } = barrier();
    const waitingApply = b.wait(later());
    await turn();
    b.answered(h.rounds[0]!, 2);
    const inRound = b.wait(later());
    await turn();
    const queued = b.wait(later());
    b.rejectAll(new Error('node stopped'));
    for (const r of [waitingApply, inRound, queued]) await assert.rejects(r, /node stopped/);
    assert.equal(b.busy(), false);
  });
});
