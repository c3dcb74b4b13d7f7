/**
 * `dkv shell`: an interactive prompt with the original kvstore client's words
 * (`set key=value`, `get key`) plus `del`, `list`, `help` and `exit`, with
 * readline editing and history on a terminal. It also reads commands piped
 * on stdin, one per line, without a prompt; it then exits with the code of
 * the last command that failed (0 if none did).
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { CliConfig } from '../config.js';
import { argBytes, keyArg, showBytes } from './bytes-arg.js';
import { type Ctx, withCtx } from './context.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { loadHistory, saveHistory } from './history.js';
import { deleteKey, getKey, listKeys, putKey } from './kv-ops.js';
import { pairSeparator } from './load-file.js';

/** The shell's help text. */
export const SHELL_HELP = `commands:
  set KEY=VALUE   store VALUE under KEY (VALUE is the rest of the line)
  get KEY         print the value of KEY
  del KEY         delete KEY
  list [PREFIX]   list keys (and values), all or under PREFIX
  help            this text
  exit            leave the shell (also quit, or Ctrl-D)`;

/** Run one shell line; returns false when the shell should end. Throws CliError for a failed command. */
async function runLine(ctx: Ctx, line: string): Promise<boolean> {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return true;
  const space = trimmed.search(/\s/);
  const word = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : trimmed.slice(space).trim();
  const show = (b: Buffer) => showBytes(b, ctx.base64);
  switch (word) {
    case 'set': {
      const eq = pairSeparator(rest, ctx.base64);
      if (eq < 0) throw usageError('usage: set KEY=VALUE');
      const key = keyArg(rest.slice(0, eq), ctx.base64);
      const value = argBytes(rest.slice(eq + 1), ctx.base64, 'value');
      await putKey(ctx.client, key, value);
      ctx.out.line(`Successfully set key '${show(key)}' with value '${show(value)}'`);
      return true;
    }
    case 'get': {
      if (rest === '') throw usageError('usage: get KEY');
      const { value: r } = await getKey(ctx.client, keyArg(rest, ctx.base64), false, ctx.base64);
      ctx.out.line(show(r.value));
      return true;
    }
    case 'del':
    case 'delete': {
      if (rest === '') throw usageError('usage: del KEY');
      const key = keyArg(rest, ctx.base64);
      const { value: r } = await deleteKey(ctx.client, key);
      ctx.out.line(r.deleted ? `Deleted key '${show(key)}'` : `Key '${show(key)}' did not exist`);
      return true;
    }
    case 'list':
    case 'ls': {
      const r = await listKeys(ctx.client, argBytes(rest, ctx.base64, 'prefix'), 0);
      for (const kv of r.kvs) ctx.out.line(`${show(kv.key)}=${show(kv.value)}`);
      ctx.out.line(`(${r.kvs.length} key${r.kvs.length === 1 ? '' : 's'})`);
      return true;
    }
    case 'help':
    case '?':
      ctx.out.line(SHELL_HELP);
      return true;
    case 'exit':
    case 'quit':
      return false;
    default:
      throw usageError(`unknown command "${word}" (try help)`);
  }
}

/** Register the shell command on the program. */
export function registerShellCommand(program: Command, config: CliConfig): void {
  program
    .command('shell')
    .description('interactive prompt: set KEY=VALUE, get KEY, del KEY, list [PREFIX], help, exit')
    .action((_opts: object, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
        const history = loadHistory(config.historyFile);
        const rl = createInterface({
          input: process.stdin,
          output: interactive ? process.stdout : undefined,
          terminal: interactive,
          // readline wants the newest first.
          history: interactive ? [...history].reverse() : [],
          historySize: 1000,
          prompt: 'dkv> ',
        });
        rl.on('SIGINT', () => rl.close());
        let lastFailure: ExitCode = ExitCode.Ok;
        if (interactive) {
          ctx.out.line(`dkv shell on ${ctx.client.endpoints.join(',')}: type help for the commands`);
          rl.prompt();
        }
        for await (const line of rl) {
          if (line.trim() !== '' && history[history.length - 1] !== line) history.push(line);
          let more = true;
          try {
            more = await runLine(ctx, line);
          } catch (e) {
            if (!(e instanceof CliError)) throw e;
            lastFailure = e.exitCode;
            ctx.out.note(`error: ${e.message}`);
          }
          if (!more) break;
          if (interactive) rl.prompt();
        }
        rl.close();
        const problem = saveHistory(config.historyFile, history);
        if (problem !== null && interactive) ctx.out.note(`dkv: ${problem}`);
        if (!interactive && lastFailure !== ExitCode.Ok) process.exitCode = lastFailure;
      }),
    );
}
