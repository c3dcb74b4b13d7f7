/**
 * TurnEnd: the waits of one event-loop turn share one promise, resolved after that turn's I/O
 * callbacks (in its check phase); the next turn gets a new one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnEnd } from '../../src/node/turn-end.js';

test('waits of one turn resolve together, after the turn; a later turn waits anew', async () => {
  const turns = new TurnEnd();
  const events: string[] = [];
  const a = turns.wait().then(() => events.push('a'));
  const b = turns.wait().then(() => events.push('b'));
  assert.equal(turns.wait(), turns.wait(), 'one promise for the turn');
  queueMicrotask(() => events.push('microtask'));
  await Promise.resolve();
  assert.deepEqual(events, ['microtask'], 'not resolved within the turn');
  await Promise.all([a, b]);
  assert.deepEqual(events, ['microtask', 'a', 'b']);

  const first = turns.wait();
  await first;
  assert.notEqual(turns.wait(), first, 'a new turn, a new promise');
  await turns.wait();
});
