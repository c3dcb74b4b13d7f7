/** `dkv load FILE`: bulk-load key-value pairs with several puts in flight and a progress bar. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliConfig } from '../config.js';
import { positiveIntOption, withCtx } from './context.js';
import { CliError, usageError } from './exit-codes.js';
import { putKey } from './kv-ops.js';
import { parseLoadFile } from './load-file.js';
import { ProgressBar } from './progress.js';

/** Register load on the program. */
export function registerLoadCommand(program: Command, config: CliConfig): void {
  program
    .command('load')
    .description('bulk-load a file of key=value lines or JSON lines {"key","value"} ("-" reads stdin)')
    .argument('<file>')
    .option('--concurrency <n>', 'puts in flight at once', '16')
    .action((file: string, opts: { concurrency: string }, cmd: Command) =>
      withCtx(cmd, config, async (ctx) => {
        const concurrency = positiveIntOption(opts.concurrency, '--concurrency');
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (e) {
          throw usageError(`cannot read ${file}: ${(e as Error).message}`);
        }
        const pairs = parseLoadFile(text, ctx.base64, file);
        const bar = new ProgressBar('loading', pairs.length);
        let next = 0;
        let done = 0;
        let failure: CliError | null = null;
        const worker = async () => {
          while (failure === null && next < pairs.length) {
            const pair = pairs[next++]!;
            try {
              await putKey(ctx.client, pair.key, pair.value);
              done++;
              bar.update(done);
            } catch (e) {
              failure ??= e as CliError;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, pairs.length)) }, worker));
        bar.finish();
        if (failure !== null) {
          const f = failure as CliError;
          throw new CliError(
            f.exitCode ?? 1,
            `load stopped after ${done} of ${pairs.length} keys: ${f.message}`,
          );
        }
        if (ctx.out.format === 'json') ctx.out.json({ loaded: done });
        else ctx.out.line(`loaded ${done} key${done === 1 ? '' : 's'} from ${file}`);
      }),
    );
}
