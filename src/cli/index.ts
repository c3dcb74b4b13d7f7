/**
 * The `dkv` binary's entry: with no arguments it runs the daemon from the
 * environment, as it always has (src/main.ts); with any argument it is the
 * client (src/cli/program.ts).
 */
import { runCli } from './program.js';

const args = process.argv.slice(2);
if (args.length === 0) {
  await import('../main.js');
} else {
  // exitCode, not exit(): stdout may still be draining into a pipe.
  process.exitCode = await runCli(args);
}
