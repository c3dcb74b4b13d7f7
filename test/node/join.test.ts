import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import type { MemberAddResult } from '../../src/api/backend.js';
import { DkvError, ErrorCode } from '../../src/errors.js';
import type { ClusterClient } from '../../src/node/cluster-client.js';
import { JoinCancelledError, joinCluster } from '../../src/node/join.js';

const member = (id: string, port: number, learner: boolean) => ({
  id,
  address: `127.0.0.1:${port}`,
  learner,
  matchIndex: 0,
  nextIndex: 0,
  reachable: true,
});
const ANSWER: MemberAddResult = {
  member: member('d', 6060, true),
  members: [member('a', 7070, false), member('d', 6060, true)],
  clusterId: 'c1',
};

/** A ClusterClient whose MemberAdd gives the answers (an Error is thrown) in turn, and counts calls. */
function client(...answers: (MemberAddResult | Error)[]): { c: ClusterClient; calls: () => number } {
  let calls = 0;
  const c = {
    memberAdd: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as ClusterClient;
  return { c, calls: () => calls };
}

const quiet = { info() {}, warn() {} };
const opts = (c: ClusterClient, signal?: AbortSignal) => ({
  joinAddress: '127.0.0.1:7070',
  nodeId: 'd',
  advertiseAddress: '127.0.0.1:6060',
  attemptTimeoutMs: 1000,
  client: c,
  log: quiet,
  signal,
});

describe('joinCluster', () => {
  test('retries what may pass (unavailable) and resolves with the answer', async () => {
    const { c, calls } = client(new DkvError(ErrorCode.Unavailable, 'no leader'), ANSWER);
    assert.deepEqual(await joinCluster(opts(c)), ANSWER);
    assert.equal(calls(), 2);
  });

  test('gives up at once on an answer retrying cannot change', async () => {
    const { c, calls } = client(new DkvError(ErrorCode.InvalidArgument, 'bad address'));
    await assert.rejects(joinCluster(opts(c)), /bad address/);
    assert.equal(calls(), 1);
  });

  test('an aborted signal: no attempt, JoinCancelledError', async () => {
    const { c, calls } = client(ANSWER);
    const stop = new AbortController();
    stop.abort();
    await assert.rejects(joinCluster(opts(c, stop.signal)), JoinCancelledError);
    assert.equal(calls(), 0);
  });

  test('aborted while waiting to retry: the wait ends and no further attempt is made', {
    timeout: 5000,
  }, async () => {
    // With the clock stopped, the wait before the second attempt can only end by the abort.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { c, calls } = client(new DkvError(ErrorCode.Unavailable, 'refused'));
      const stop = new AbortController();
      const joining = joinCluster(opts(c, stop.signal));
      // Let the first attempt fail and the wait before the second begin.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(calls(), 1);
      stop.abort();
      await assert.rejects(joining, JoinCancelledError);
      assert.equal(calls(), 1);
    } finally {
      mock.timers.reset();
    }
  });

  test('an attempt that fails because the stop closed its client ends as cancelled, not as a failure', async () => {
    const stop = new AbortController();
    const c = {
      memberAdd: async () => {
        stop.abort();
        throw new DkvError(ErrorCode.Unavailable, 'channel closed');
      },
    } as unknown as ClusterClient;
    await assert.rejects(joinCluster(opts(c, stop.signal)), JoinCancelledError);
  });
});
