/**
 * When a node is ready to serve clients: it is still a member, it knows a
 * leader (so writes and linearizable reads can complete) and it has applied
 * nearly everything it knows to be committed (so its serializable reads are
 * not far behind).
 * /readyz and the gRPC health service both answer from here.
 */
import type { NodeStatus } from './backend.js';

/**
 * How many committed entries a ready node may still have to apply: under a
 * steady write load the newest commits are always a batch or so ahead of the
 * apply, which is not a reason to take a node out of service.
 */
export const READY_MAX_APPLY_LAG = 100;

/** A node's readiness: ready, or not with the reason in a few words. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** Whether a node in `status` is ready, and if not why. */
export function readiness(status: NodeStatus, maxApplyLag = READY_MAX_APPLY_LAG): Readiness {
  if (status.removed) return { ready: false, reason: 'removed from the cluster' };
  if (status.leaderId === '') {
    return { ready: false, reason: `no leader (this node is ${status.role} in term ${status.term})` };
  }
  if (status.commitIndex - status.appliedIndex > maxApplyLag) {
    return {
      ready: false,
      reason: `applying: applied ${status.appliedIndex} of commit ${status.commitIndex}`,
    };
  }
  return { ready: true };
}
