/** The key-value commands: put, get, del, list, cas. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliConfig } from '../config.js';
import {
  CompareAndSwapResponse,
  DeleteResponse,
  GetResponse,
  PutResponse,
  RangeResponse,
} from '../gen/dkv/v0/kvstore.js';
import { argBytes, keyArg, showBytes } from './bytes-arg.js';
import { type Ctx, positiveIntOption, withCtx } from './context.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { casKey, deleteKey, getKey, listKeys, putKey } from './kv-ops.js';
import { gatewayJson } from './output.js';

/** A value from the command line or, with --file, a file's raw bytes. */
function valueFrom(ctx: Ctx, value: string | undefined, file: string | undefined): Buffer {
  if (file !== undefined) {
    if (value !== undefined)
      throw usageError('give the value either as an argument or with --file, not both');
    try {
      return readFileSync(file);
    } catch (e) {
      throw usageError(`--file ${file}: ${(e as Error).message}`);
    }
  }
  if (value === undefined) throw usageError('missing value (give VALUE or --file PATH)');
  return argBytes(value, ctx.base64, 'value');
}

/** Register put, get, del, list and cas on the program. */
export function registerKvCommands(program: Command, config: CliConfig): void {
  program
    .command('put')
    .description('store VALUE under KEY (or the bytes of a file with --file)')
    .argument('<key>')
    .argument('[value]')
    .option('--file <path>', 'read the value from this file (raw bytes)')
    .action((key: string, value: string | undefined, opts: { file?: string }, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const k = keyArg(key, ctx.base64);
        const { value: r } = await putKey(ctx.client, k, valueFrom(ctx, value, opts.file));
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(PutResponse, r));
        else ctx.out.line(`OK (revision ${r.revision})`);
      }),
    );

  program
    .command('get')
    .description('print the value stored under KEY (exit 3 if there is none)')
    .argument('<key>')
    .option(
      '--serializable',
      "read the answering node's local state, without asking the leader (may be stale)",
    )
    .action((key: string, opts: { serializable?: boolean }, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const { value: r } = await getKey(
          ctx.client,
          keyArg(key, ctx.base64),
          opts.serializable === true,
          ctx.base64,
        );
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(GetResponse, r));
        else ctx.out.line(showBytes(r.value, ctx.base64));
      }),
    );

  program
    .command('del')
    .alias('delete')
    .description('delete KEY (deleting a missing key succeeds and says so)')
    .argument('<key>')
    .action((key: string, _opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const { value: r } = await deleteKey(ctx.client, keyArg(key, ctx.base64));
        if (ctx.out.format === 'json') ctx.out.json(gatewayJson(DeleteResponse, r));
        else ctx.out.line(r.deleted ? `deleted (revision ${r.revision})` : 'not found: nothing deleted');
      }),
    );

  program
    .command('list')
    .alias('ls')
    .description('list keys and values, all or those starting with PREFIX, in byte order')
    .argument('[prefix]', 'only keys that start with this', '')
    .option('--limit <n>', 'at most this many pairs (default: all, fetched page by page)')
    .action((prefix: string, opts: { limit?: string }, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const limit = opts.limit === undefined ? 0 : positiveIntOption(opts.limit, '--limit');
        const r = await listKeys(ctx.client, argBytes(prefix, ctx.base64, 'prefix'), limit);
        if (ctx.out.format === 'json') {
          ctx.out.json(gatewayJson(RangeResponse, r, { kvs: [] }));
          return;
        }
        ctx.out.table(
          ['KEY', 'VALUE', 'MOD_REVISION'],
          r.kvs.map((kv) => [showBytes(kv.key, ctx.base64), showBytes(kv.value, ctx.base64), kv.modRevision]),
        );
        ctx.out.note(
          `${r.kvs.length} key${r.kvs.length === 1 ? '' : 's'}${r.nextPageToken ? ' (more remain)' : ''}`,
        );
      }),
    );

  program
    .command('cas')
    .description('compare-and-swap: store NEW under KEY only if it holds EXPECTED (exit 5 if not)')
    .argument('<key>')
    .argument('[expected]', 'the value KEY must hold (omit with --absent)')
    .argument('[new]', 'the value to store')
    .option('--absent', 'swap only if KEY does not exist (create-only); then give only KEY NEW')
    .action(
      (
        key: string,
        expected: string | undefined,
        next: string | undefined,
        opts: { absent?: boolean },
        cmd: Command,
      ) =>
        withCtx(cmd, config, async (ctx) => {
          const absent = opts.absent === true;
          let expectedText: string;
          let newText: string;
          if (absent) {
            if (expected === undefined || next !== undefined) throw usageError('with --absent give KEY NEW');
            expectedText = '';
            newText = expected;
          } else {
            if (expected === undefined || next === undefined)
              throw usageError('give KEY EXPECTED NEW (or --absent KEY NEW)');
            expectedText = expected;
            newText = next;
          }
          const k = keyArg(key, ctx.base64);
          const { value: r } = await casKey(
            ctx.client,
            k,
            argBytes(expectedText, ctx.base64, 'expected value'),
            absent,
            argBytes(newText, ctx.base64, 'new value'),
          );
          if (ctx.out.format === 'json') ctx.out.json(gatewayJson(CompareAndSwapResponse, r));
          else if (r.swapped) ctx.out.line(`swapped (revision ${r.revision})`);
          if (!r.swapped) {
            const current = r.currentAbsent
              ? `${showBytes(k, ctx.base64)} does not exist`
              : `${showBytes(k, ctx.base64)} holds "${showBytes(r.currentValue, ctx.base64)}"`;
            throw new CliError(ExitCode.Precondition, `cas: not swapped: ${current}`);
          }
        }),
    );
}
