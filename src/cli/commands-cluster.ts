/** The cluster commands: status, members, member add|remove, leader transfer, shutdown. */
import type { Command } from 'commander';
import { type CliConfig, ConfigError, parseEndpoints } from '../config.js';
import {
  type Member,
  MemberAddResponse,
  MemberListResponse,
  MemberRemoveResponse,
  Role,
  roleToJSON,
  ShutdownResponse,
  StatusResponse,
  TransferLeadershipResponse,
} from '../gen/dkv/v0/cluster.js';
import type { Ctx } from './context.js';
import { positiveIntOption, withCtx } from './context.js';
import { usageError } from './exit-codes.js';
import { waitForMember } from './member-wait.js';
import { gatewayJson } from './output.js';

/**
 * Members as a table: the leader (if known) marked in the role column. Replication progress is
 * the leader's view; when a follower answered (`fromLeader` false) it has none, shown as '-'.
 */
function printMembers(ctx: Ctx, members: Member[], leaderId: string, fromLeader: boolean): void {
  ctx.out.table(
    ['ID', 'ADDRESS', 'ROLE', 'MATCH_INDEX', 'REACHABLE'],
    members.map((m) => [
      m.id,
      m.address,
      `${m.learner ? 'learner' : 'voter'}${m.id === leaderId ? ' (leader)' : ''}`,
      fromLeader ? m.matchIndex : '-',
      fromLeader ? (m.reachable ? 'yes' : 'no') : '-',
    ]),
  );
}

/** Register status, members, member, leader and shutdown on the program. */
export function registerClusterCommands(program: Command, config: CliConfig): void {
  program
    .command('status')
    .description("the answering node's Raft state and the members' progress")
    .action((_opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const { value: s, endpoint } = await ctx.client.call<StatusResponse>(
          'status',
          { idempotent: true },
          (c, md, o, cb) => c.cluster.status({}, md, o, cb),
        );
        if (ctx.out.format === 'json') {
          ctx.out.json(gatewayJson(StatusResponse, s, { members: [] }));
          return;
        }
        ctx.out.table(
          ['FIELD', 'VALUE'],
          [
            ['endpoint', endpoint],
            ['node', s.nodeId],
            ['role', roleToJSON(s.role)],
            ['term', s.term],
            ['leader', s.leaderId || '(unknown)'],
            ['commit index', s.commitIndex],
            ['applied index', s.appliedIndex],
            ['last index', s.lastIndex],
          ],
        );
        ctx.out.line('');
        printMembers(ctx, s.members, s.leaderId, s.role === Role.LEADER);
      }),
    );

  program
    .command('members')
    .description('the committed membership as the leader knows it')
    .action((_opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const { value: r } = await ctx.client.call<MemberListResponse>(
          'members',
          { idempotent: true },
          (c, md, o, cb) => c.cluster.memberList({}, md, o, cb),
        );
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(MemberListResponse, r, { members: [] }));
        else printMembers(ctx, r.members, r.leaderId, true);
      }),
    );

  const member = program.command('member').description('change the membership: add or remove a node');
  member
    .command('add')
    .description('add node ID, reachable by its peers at ADDRESS (host:port); it joins as a learner')
    .argument('<id>')
    .argument('<address>')
    .option('--learner', 'keep it a learner (never promoted to voter)')
    .option('--wait', 'wait until it has caught up (and been promoted), showing progress')
    .option('--wait-timeout <ms>', 'give up waiting after this long (exit 4)', '120000')
    .action(
      (
        id: string,
        address: string,
        opts: { learner?: boolean; wait?: boolean; waitTimeout: string },
        cmd: Command,
      ) =>
        withCtx(cmd, config, async (ctx) => {
          if (id === '') throw usageError('member id must not be empty');
          const waitTimeoutMs = positiveIntOption(opts.waitTimeout, '--wait-timeout');
          const learner = opts.learner === true;
          // MemberAdd of the same id and address changes nothing, so a retry elsewhere is safe.
          const { value: r } = await ctx.client.call<MemberAddResponse>(
            'member add',
            { idempotent: true },
            (c, md, o, cb) => c.cluster.memberAdd({ id, address, learner }, md, o, cb),
          );
          if (opts.wait) await waitForMember(ctx, id, learner, waitTimeoutMs);
          if (ctx.out.format === 'json') {
            ctx.out.json(gatewayJson(MemberAddResponse, r, { member: null, members: [] }));
            return;
          }
          ctx.out.line(
            `added ${id} at ${address} as a learner${learner ? '' : opts.wait ? ', promoted to voter' : ' (promoted once caught up)'}`,
          );
          printMembers(ctx, r.members, '', true);
        }),
    );
  member
    .command('remove')
    .alias('rm')
    .description('remove node ID (removing the leader transfers leadership first)')
    .argument('<id>')
    .action((id: string, _opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        if (id === '') throw usageError('member id must not be empty');
        const { value: r } = await ctx.client.call<MemberRemoveResponse>(
          'member remove',
          { idempotent: false },
          (c, md, o, cb) => c.cluster.memberRemove({ id }, md, o, cb),
        );
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(MemberRemoveResponse, r, { members: [] }));
        else {
          ctx.out.line(`removed ${id}`);
          printMembers(ctx, r.members, '', true);
        }
      }),
    );

  program
    .command('leader')
    .description('leadership')
    .command('transfer')
    .description('hand leadership to voter ID (default: the most up-to-date other voter)')
    .argument('[id]', 'the voter to lead', '')
    .action((targetId: string, _opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const { value: r } = await ctx.client.call<TransferLeadershipResponse>(
          'leader transfer',
          { idempotent: false },
          (c, md, o, cb) => c.cluster.transferLeadership({ targetId }, md, o, cb),
        );
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(TransferLeadershipResponse, r));
        else ctx.out.line(`leader is now ${r.leaderId} (term ${r.term})`);
      }),
    );

  program
    .command('shutdown')
    .description('stop the node at --endpoint gracefully (it stays a member)')
    .option('--endpoint <host:port>', 'the node to stop (required unless --endpoints names exactly one)')
    .action((opts: { endpoint?: string }, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        // Never fail over: a shutdown must stop the node asked for, not another one.
        const endpoint =
          opts.endpoint ?? (ctx.client.endpoints.length === 1 ? ctx.client.endpoints[0] : undefined);
        if (endpoint === undefined) {
          throw usageError('shutdown needs --endpoint host:port (which node to stop)');
        }
        try {
          parseEndpoints(endpoint, '--endpoint');
        } catch (e) {
          if (e instanceof ConfigError) throw usageError(e.message);
          throw e;
        }
        const { value: r } = await ctx.client.call<ShutdownResponse>(
          'shutdown',
          { idempotent: false, endpoints: [endpoint] },
          (c, md, o, cb) => c.cluster.shutdown({}, md, o, cb),
        );
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(ShutdownResponse, r));
        else ctx.out.line(`node ${r.nodeId} at ${endpoint} is shutting down`);
      }),
    );
}
