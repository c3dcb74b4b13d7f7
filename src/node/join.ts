/**
 * Joining a running cluster (DKV_JOIN): ask any member to add this node
 * (followers forward to the leader), retrying with backoff until the cluster
 * answers. Retrying is safe because adding the same id with the same
 * address again succeeds without change.
 */
import type { MemberAddResult } from '../api/backend.js';
import { DkvError, ErrorCode } from '../errors.js';
import { Backoff } from '../transport/backoff.js';
import type { ClusterClient } from './cluster-client.js';

/** What joining needs to know. */
export interface JoinOptions {
  /** host:port of the member to ask (DKV_JOIN). */
  joinAddress: string;
  nodeId: string;
  /** host:port at which the members will reach this node. */
  advertiseAddress: string;
  /** The deadline of each attempt. */
  attemptTimeoutMs: number;
  client: ClusterClient;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Aborted when the daemon stops: joining gives up at once, rejecting with JoinCancelledError. */
  signal?: AbortSignal;
}

/** Joining was given up because its signal was aborted (the daemon is stopping), not because it failed. */
export class JoinCancelledError extends Error {
  constructor() {
    super('joining was cancelled');
    this.name = 'JoinCancelledError';
  }
}

/** Answers that retrying cannot change: the request itself is wrong for this cluster. */
const PERMANENT: ReadonlySet<string> = new Set([ErrorCode.InvalidArgument, ErrorCode.FailedPrecondition]);

/** Add this node to the cluster at opts.joinAddress; resolves with the cluster's answer. */
export async function joinCluster(opts: JoinOptions): Promise<MemberAddResult> {
  const backoff = new Backoff(200, 5000);
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new JoinCancelledError();
    try {
      const r = await opts.client.memberAdd(
        opts.joinAddress,
        { id: opts.nodeId, address: opts.advertiseAddress, learner: false },
        Date.now() + opts.attemptTimeoutMs,
        false,
      );
      opts.log.info(
        { via: opts.joinAddress, cluster: r.clusterId, members: r.members.map((m) => m.id) },
        'joined the cluster as a learner; waiting for the leader to send the data',
      );
      return r;
    } catch (e) {
      // The attempt may have failed because the stop closed its client: that is no answer.
      if (opts.signal?.aborted) throw new JoinCancelledError();
      if (e instanceof DkvError && PERMANENT.has(e.code)) throw e;
      const waitMs = backoff.next();
      opts.log.warn(
        { via: opts.joinAddress, attempt, retryInMs: Math.round(waitMs), err: (e as Error).message },
        'could not join the cluster yet; retrying',
      );
      await pause(waitMs, opts.signal);
    }
  }
}

/** Wait `ms`, or less if `signal` is aborted meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
