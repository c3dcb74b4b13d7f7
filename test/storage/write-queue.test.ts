/**
 * WriteQueue on a real LMDB environment: writes of one turn share one
 * transaction, deferrable writes wait for company (or hurry()), and order is
 * kept across synchronous and asynchronous groups.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { open } from 'lmdb';
import { type BlindWrite, DEFER_MS, SYNC_MAX_WEIGHT, WriteQueue } from '../../src/storage/write-queue.js';
import { tmpDir } from './helpers.js';

/** A fresh environment with one binary-keyed database, and a queue counting its transactions. */
function fixture() {
  const env = open({ path: tmpDir(), keyEncoding: 'binary', encoding: 'binary' });
  const db = env.openDB({ name: 'test', keyEncoding: 'binary', encoding: 'binary' });
  const counts = { sync: 0, async: 0, batch: 0 };
  const realSync = env.transactionSync.bind(env);
  const realChild = env.childTransaction.bind(env);
  const realBatch = env.batch.bind(env);
  const transactor = {
    transactionSync<T>(action: () => T, flags?: number): T {
      counts.sync++;
      return realSync(action, flags);
    },
    childTransaction<T>(action: () => T): Promise<T> {
      counts.async++;
      return realChild(action);
    },
    batch(action: () => void): Promise<boolean> {
      counts.batch++;
      return realBatch(action);
    },
    get flushed() {
      return env.flushed;
    },
  };
  const put = (k: string, v: string) => () => {
    db.putSync(Buffer.from(k), Buffer.from(v));
    return k;
  };
  /** A blind write's producer: put k=v, only if `requires` exists when written (if given). */
  const blind =
    (k: string, v: string, requires?: string, log?: string[]): (() => BlindWrite) =>
    () => {
      log?.push(`produce ${k}=${v}`);
      const ops = [{ db, key: Buffer.from(k), value: Buffer.from(v) }];
      if (requires === undefined) return { ops };
      return {
        ops,
        requires: { db, key: Buffer.from(requires), missing: () => new Error(`${requires} missing`) },
      };
    };
  const get = (k: string) => db.get(Buffer.from(k))?.toString();
  const threads: string[] = [];
  const rollbacks = { count: 0 };
  const queue = new WriteQueue(transactor, {
    onCommit: (thread) => threads.push(thread),
    onRollback: () => rollbacks.count++,
  });
  return { env, db, queue, counts, threads, rollbacks, transactor, put, blind, get };
}

describe('WriteQueue', () => {
  test('writes queued in one turn commit in one synchronous transaction, in order', async () => {
    const { env, queue, counts, put, get } = fixture();
    const results = await Promise.all([
      queue.enqueue(put('a', '1'), { durable: true }),
      queue.enqueue(put('a', '2'), { durable: false }),
      queue.enqueue(put('b', '3'), { durable: true }),
    ]);
    assert.deepEqual(results, ['a', 'a', 'b']);
    assert.deepEqual(counts, { sync: 1, async: 0, batch: 0 });
    assert.equal(get('a'), '2');
    await env.close();
  });

  test('a deferrable write waits for company and shares its transaction', async () => {
    const { env, queue, counts, put, get } = fixture();
    const deferred = queue.enqueue(put('applied', '1'), { durable: false, deferrable: true });
    await sleep(1);
    assert.equal(get('applied'), undefined, 'not written before the deferral ends');
    assert.equal(counts.sync, 0);
    await Promise.all([deferred, queue.enqueue(put('log', '1'), { durable: true })]);
    assert.deepEqual(counts, { sync: 1, async: 0, batch: 0 });
    assert.equal(get('applied'), '1');
    await env.close();
  });

  test('a deferrable write alone commits after DEFER_MS; hurry() starts it at once', async () => {
    const { env, queue, counts, put, get } = fixture();
    await queue.enqueue(put('a', '1'), { durable: false, deferrable: true });
    assert.equal(get('a'), '1');
    const second = queue.enqueue(put('b', '1'), { durable: false, deferrable: true });
    queue.hurry();
    await new Promise((r) => setImmediate(r));
    assert.equal(get('b'), '1', 'hurried: committed on the next check phase');
    await second;
    assert.equal(counts.sync, 2);
    assert.ok(DEFER_MS >= 1);
    await env.close();
  });

  test('a heavy group goes off-thread and the light group behind it follows in order', async () => {
    const { env, queue, counts, put, get } = fixture();
    const heavy = queue.enqueue(put('k', 'heavy'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 });
    await new Promise((r) => setImmediate(r));
    const light = queue.enqueue(put('k', 'light'), { durable: true });
    await Promise.all([heavy, light]);
    assert.deepEqual(counts, { sync: 0, async: 2, batch: 0 });
    assert.equal(get('k'), 'light');
    await queue.idle();
    await env.close();
  });

  test('an onLoop write commits on the event loop whatever its weight, and says so', async () => {
    const { env, queue, counts, threads, put, get } = fixture();
    const heavy = SYNC_MAX_WEIGHT * 100;
    await Promise.all([
      queue.enqueue(put('a', '1'), { durable: true, weight: heavy, onLoop: true }),
      queue.enqueue(put('b', '1'), { durable: false, weight: 0, deferrable: true }),
    ]);
    assert.deepEqual(counts, { sync: 1, async: 0, batch: 0 });
    assert.deepEqual(threads, ['event_loop']);
    // A heavy write not so marked in the same group still sends the group off-thread.
    await Promise.all([
      queue.enqueue(put('a', '2'), { durable: true, weight: heavy, onLoop: true }),
      queue.enqueue(put('b', '2'), { durable: true, weight: heavy }),
    ]);
    assert.deepEqual(counts, { sync: 1, async: 1, batch: 0 });
    assert.deepEqual(threads, ['event_loop', 'writer']);
    assert.equal(get('a'), '2');
    assert.equal(get('b'), '2');
    await queue.idle();
    await env.close();
  });

  test('an onLoop write behind an off-thread group follows it off-thread, in order', async () => {
    const { env, queue, counts, put, get } = fixture();
    const heavy = queue.enqueue(put('k', 'heavy'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 });
    await new Promise((r) => setImmediate(r));
    const onLoop = queue.enqueue(put('k', 'on-loop'), { durable: true, onLoop: true });
    await Promise.all([heavy, onLoop]);
    assert.deepEqual(counts, { sync: 0, async: 2, batch: 0 });
    assert.equal(get('k'), 'on-loop');
    await queue.idle();
    await env.close();
  });

  test('an exclusive write waits for the off-thread groups in flight, then commits synchronously', async () => {
    const { env, queue, counts, put, get } = fixture();
    const heavy = queue.enqueue(put('k', 'heavy'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 });
    await new Promise((r) => setImmediate(r));
    let seen: string | undefined;
    const exclusive = queue.enqueue(
      () => {
        seen = get('k');
        return put('k', 'exclusive')();
      },
      { durable: true, weight: SYNC_MAX_WEIGHT + 1, exclusive: true },
    );
    await Promise.all([heavy, exclusive]);
    assert.equal(seen, 'heavy', 'ran after the off-thread group was committed');
    assert.deepEqual(counts, { sync: 1, async: 1, batch: 0 });
    assert.equal(get('k'), 'exclusive');
    await queue.idle();
    await env.close();
  });

  test('a heavy group of blind writes goes to the writer thread as plain writes, with no callback', async () => {
    const { env, queue, counts, threads, blind, get } = fixture();
    const heavy = SYNC_MAX_WEIGHT + 1;
    await Promise.all([
      queue.enqueueBlind(blind('a', '1'), { durable: true, weight: heavy }),
      queue.enqueueBlind(blind('b', '1', 'a'), { durable: false }),
    ]);
    // b required a, written in the same transaction just before it.
    assert.deepEqual(counts, { sync: 0, async: 0, batch: 1 });
    assert.deepEqual(threads, ['writer']);
    assert.equal(get('a'), '1');
    assert.equal(get('b'), '1');
    await env.close();
  });

  for (const [path, weight] of [
    ['on the writer thread', SYNC_MAX_WEIGHT + 1],
    ['on the event loop', 1],
  ] as const) {
    test(`a blind write whose required key is missing fails alone, writing nothing (${path})`, async () => {
      const { env, queue, rollbacks, blind, get } = fixture();
      const results = await Promise.allSettled([
        queue.enqueueBlind(blind('a', '1'), { durable: true, weight }),
        queue.enqueueBlind(blind('b', '1', 'nowhere'), { durable: true, weight }),
        queue.enqueueBlind(blind('c', '1', 'a'), { durable: true, weight }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.match(String((results[1] as PromiseRejectedResult).reason), /nowhere missing/);
      assert.equal(get('b'), undefined);
      assert.equal(get('a'), '1');
      assert.equal(get('c'), '1');
      assert.equal(rollbacks.count, weight > SYNC_MAX_WEIGHT ? 1 : 2, 'the group, then the retry alone');
      // Off the loop, later groups may have been produced from the failed write: the queue breaks.
      // On the loop nothing else was in flight: the queue goes on.
      const later = queue.enqueueBlind(blind('d', '1'), { durable: true });
      if (weight > SYNC_MAX_WEIGHT) {
        await assert.rejects(later, /refused after an earlier write failed: nowhere missing/);
        assert.equal(get('d'), undefined);
      } else {
        await later;
        assert.equal(get('d'), '1');
      }
      await queue.idle();
      await env.close();
    });
  }

  test('a commit that fails rejects its group, leaves no rejection unhandled, and breaks the queue', async () => {
    const { env, db, queue, transactor, rollbacks, blind } = fixture();
    // As lmdb-js does when the writer's transaction fails: the batch's promise and every
    // conditional block's promise reject.
    const realBatch = transactor.batch.bind(transactor);
    transactor.batch = (action) => {
      void realBatch(action).catch(() => {});
      return Promise.reject(new Error('commit failed: MDB_MAP_FULL'));
    };
    const realIfVersion = db.ifVersion.bind(db);
    db.ifVersion = ((key: Buffer, version: number, action: () => void) => {
      void realIfVersion(key, version, action).catch(() => {});
      return Promise.reject(new Error('commit failed: MDB_MAP_FULL'));
    }) as typeof db.ifVersion;
    const results = await Promise.allSettled([
      queue.enqueueBlind(blind('a', '1'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 }),
      queue.enqueueBlind(blind('b', '1', 'a'), { durable: true }),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status)),
      ['Error: commit failed: MDB_MAP_FULL', 'Error: commit failed: MDB_MAP_FULL'],
    );
    assert.equal(rollbacks.count, 1);
    await assert.rejects(
      queue.enqueue(() => 'never run', { durable: true }),
      /refused after an earlier write failed: commit failed: MDB_MAP_FULL/,
    );
    await queue.idle();
    db.ifVersion = realIfVersion;
    await env.close();
  });

  test('a transaction lmdb-js refuses outright rejects its group instead of throwing out of the queue', async () => {
    const { env, queue, transactor, put } = fixture();
    transactor.childTransaction = () => {
      throw new Error('The database has been closed and you can not transact on it');
    };
    await assert.rejects(
      queue.enqueue(put('a', '1'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 }),
      /database has been closed/,
    );
    await queue.idle();
    await env.close();
  });

  test('a blind producer that throws fails its own write only', async () => {
    const { env, queue, blind, get } = fixture();
    const results = await Promise.allSettled([
      queue.enqueueBlind(blind('a', '1'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 }),
      queue.enqueueBlind(
        () => {
          throw new Error('refused before writing');
        },
        { durable: true },
      ),
      queue.enqueueBlind(blind('c', '1'), { durable: true }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(get('a'), '1');
    assert.equal(get('c'), '1');
    await env.close();
  });

  test('blind writes behind a callback that has not run yet wait their turn in a callback too', async () => {
    const { env, queue, counts, transactor, put, blind, get } = fixture();
    // Hold the callback back, as a writer thread busy with an earlier transaction would.
    const realChild = transactor.childTransaction.bind(transactor);
    transactor.childTransaction = <T>(action: () => T) =>
      new Promise<T>((resolve, reject) => setTimeout(() => realChild(action).then(resolve, reject), 20));
    const order: string[] = [];
    const first = queue.enqueue(
      () => {
        order.push('callback');
        return put('k', 'callback')();
      },
      { durable: true, weight: SYNC_MAX_WEIGHT + 1 },
    );
    await new Promise((r) => setImmediate(r));
    await Promise.all([first, queue.enqueueBlind(blind('k', 'blind', undefined, order), { durable: true })]);
    // Run in the order queued: a producer run at once would have gone before the callback.
    assert.deepEqual(order, ['callback', 'produce k=blind']);
    assert.deepEqual(counts, { sync: 0, async: 2, batch: 0 });
    assert.equal(get('k'), 'blind');
    // Once no callback is pending, blind groups go as plain writes again.
    await queue.enqueueBlind(blind('k', 'again'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 });
    assert.equal(counts.batch, 1);
    await env.close();
  });

  test('idle() waits for deferred and in-flight groups', async () => {
    const { env, queue, put, get } = fixture();
    void queue.enqueue(put('d', '1'), { durable: false, deferrable: true });
    void queue.enqueue(put('h', '1'), { durable: true, weight: SYNC_MAX_WEIGHT + 1 });
    await queue.idle();
    assert.equal(get('d'), '1');
    assert.equal(get('h'), '1');
    await env.close();
  });
});
