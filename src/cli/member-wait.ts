/**
 * `member add --wait`: poll the leader's status until the new member has
 * caught up (its match index reaches the leader's commit index) and, unless
 * it stays a learner, has been promoted to voter; a progress bar shows match
 * index against commit index meanwhile.
 */
import { Role, type StatusResponse } from '../gen/dkv/v0/cluster.js';
import type { Ctx } from './context.js';
import { CliError, ExitCode } from './exit-codes.js';
import { ProgressBar } from './progress.js';

const POLL_MS = 200;

/** The leader's status: the answering node's if it leads, else asked of the leader it names. */
async function leaderStatus(ctx: Ctx): Promise<StatusResponse | null> {
  const { value: s } = await ctx.client.call<StatusResponse>('status', { idempotent: true }, (c, md, o, cb) =>
    c.cluster.status({}, md, o, cb),
  );
  if (s.role === Role.LEADER) return s;
  const leader = s.members.find((m) => m.id === s.leaderId);
  if (!leader) return null;
  const { value: ls } = await ctx.client.call<StatusResponse>(
    'status',
    { idempotent: true, endpoints: [leader.address] },
    (c, md, o, cb) => c.cluster.status({}, md, o, cb),
  );
  return ls.role === Role.LEADER ? ls : null;
}

/** Wait until member `id` has caught up (and been promoted unless `learner`); exit 4 after `timeoutMs`. */
export async function waitForMember(
  ctx: Ctx,
  id: string,
  learner: boolean,
  timeoutMs: number,
): Promise<void> {
  const bar = new ProgressBar(`catching up ${id}`, 0);
  const deadline = Date.now() + timeoutMs;
  let last = 'no leader status yet';
  try {
    while (Date.now() < deadline) {
      const s = await leaderStatus(ctx).catch((e: Error) => {
        last = e.message;
        return null;
      });
      const m = s?.members.find((x) => x.id === id);
      if (s && m) {
        const match = Number(m.matchIndex);
        const commit = Number(s.commitIndex);
        bar.update(Math.min(match, commit), commit);
        last = `match index ${match} of commit index ${commit}${m.learner ? ', still a learner' : ''}`;
        if (match >= commit && (learner || !m.learner)) {
          bar.finish();
          ctx.out.note(
            `${id} caught up: match index ${match}, commit index ${commit}${learner ? '' : ', voter'}`,
          );
          return;
        }
      } else if (s) {
        last = `${id} is not in the leader's configuration`;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    bar.finish();
  }
  throw new CliError(
    ExitCode.Unavailable,
    `member add --wait: ${id} did not catch up within ${timeoutMs} ms (${last})`,
  );
}
