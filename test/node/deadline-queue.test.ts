/**
 * Deadlines on one timer: each expires once its time has passed, in any order of adding, a
 * cancelled one never does, and no timer is left running once nothing waits.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { DeadlineQueue } from '../../src/deadline-queue.js';
import { Waiters } from '../../src/node/waiters.js';

describe('DeadlineQueue', () => {
  let clock = 0;
  const now = () => clock;
  /** Move the clock and the mocked timers forward together. */
  const advance = (ms: number) => {
    clock += ms;
    mock.timers.tick(ms);
  };
  beforeEach(() => {
    clock = 1_000;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => mock.timers.reset());

  test('deadlines expire once past, in any order added; cancelled ones never', () => {
    const q = new DeadlineQueue(now);
    const fired: string[] = [];
    q.add(1_300, () => fired.push('c'));
    q.add(1_100, () => fired.push('a'));
    const b = q.add(1_200, () => fired.push('b'));
    q.add(1_100, () => fired.push('a2'));
    q.cancel(b);
    advance(99);
    assert.deepEqual(fired, []);
    advance(1);
    assert.deepEqual(fired, ['a', 'a2']);
    advance(150);
    assert.deepEqual(fired, ['a', 'a2'], 'the cancelled deadline fired');
    advance(50);
    assert.deepEqual(fired, ['a', 'a2', 'c']);
    assert.equal(q.size(), 0);
  });

  test('a deadline added from an expiry, or later than the timer, is still kept', () => {
    const q = new DeadlineQueue(now);
    const fired: number[] = [];
    q.add(1_050, () => {
      fired.push(1);
      q.add(1_060, () => fired.push(3));
    });
    q.add(1_500, () => fired.push(4));
    advance(50);
    assert.deepEqual(fired, [1]);
    q.add(1_055, () => fired.push(2));
    advance(5);
    assert.deepEqual(fired, [1, 2]);
    advance(5);
    assert.deepEqual(fired, [1, 2, 3]);
    advance(440);
    assert.deepEqual(fired, [1, 2, 3, 4]);
  });

  test('a deadline beyond what setTimeout holds waits in steps', () => {
    const q = new DeadlineQueue(now);
    let fired = false;
    q.add(1_000 + 2 ** 32, () => {
      fired = true;
    });
    advance(2 ** 31);
    assert.equal(fired, false);
    advance(2 ** 31);
    assert.equal(fired, true);
  });

  test('every expired deadline is told even when one throws, and the throw is not lost', () => {
    const q = new DeadlineQueue(now);
    const fired: string[] = [];
    q.add(1_010, () => {
      throw new Error('boom');
    });
    q.add(1_010, () => fired.push('after'));
    assert.throws(() => advance(10), /boom/);
    assert.deepEqual(fired, ['after']);
  });
});

describe('DeadlineQueue timers', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('one timer however many wait, and none once all are answered', () => {
    const before = timers();
    const q = new DeadlineQueue();
    const ds = Array.from({ length: 50 }, (_, i) => q.add(Date.now() + 60_000 + i, () => {}));
    assert.equal(timers(), before + 1);
    for (const d of ds) q.cancel(d);
    assert.equal(timers(), before);
  });

  test('Waiters: answered, failed and timed-out requests, on real time', async () => {
    const w = new Waiters<number>();
    const answered = w.add('a', Date.now() + 60_000, () => new Error('late a'));
    const failed = w.add('b', Date.now() + 60_000, () => new Error('late b'));
    const late = w.add('c', Date.now() + 20, () => new Error('late c'));
    w.resolve('a', 7);
    w.reject('b', new Error('no'));
    assert.equal(await answered, 7);
    await assert.rejects(failed, /no/);
    await assert.rejects(late, /late c/);
    assert.equal(w.size(), 0);
    assert.equal(w.has('c'), false);
  });
});
