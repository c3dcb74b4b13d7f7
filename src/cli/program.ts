/**
 * The `dkv` client: the commander program with its global options and every
 * command group, and the one place that turns failures into a message on
 * stderr and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { type CliConfig, ConfigError, DEFAULT_ENDPOINTS, loadCliConfig } from '../config.js';
import { registerClusterCommands } from './commands-cluster.js';
import { registerKvCommands } from './commands-kv.js';
import { registerLoadCommand } from './commands-load.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { registerShellCommand } from './shell.js';

const AFTER_HELP = `
With no command at all, dkv runs the daemon, configured by the DKV_* environment
variables (see README). Keys and values are UTF-8 text unless --base64 is given.
Environment: DKV_ENDPOINTS (default endpoints), DKV_HISTORY_FILE (shell history,
default ~/.dkv_history).

Examples:
  dkv put greeting hello
  dkv get greeting
  dkv --endpoints 127.0.0.1:7070,127.0.0.1:8080 list user/ --limit 10
  dkv --output json status
  printf 'set a=1\\nget a\\n' | dkv shell

${EXIT_CODES_HELP}`;

/** Build the program: global options, then every command group. */
export function buildProgram(config: CliConfig): Command {
  const program = new Command('dkv')
    .description('dkv, a replicated key-value database: the client (and, with no command, the daemon)')
    .option(
      '--endpoints <list>',
      `gRPC endpoints host:port,... tried in order with failover (default: DKV_ENDPOINTS or ${DEFAULT_ENDPOINTS})`,
    )
    .option('--timeout <ms>', 'deadline of each call on each endpoint, in milliseconds', '5000')
    .option('--base64', 'keys and values are given and printed as base64 (for binary data)')
    .addOption(new Option('--output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-v, --verbose', 'say which endpoint answered each call, and how long it took')
    .addHelpText('after', AFTER_HELP)
    .showHelpAfterError('(run dkv --help for usage)')
    .exitOverride();
  registerKvCommands(program, config);
  registerLoadCommand(program, config);
  registerClusterCommands(program, config);
  registerShellCommand(program, config);
  return program;
}

/** Run the client with these arguments; resolves to the exit code, having printed any error. */
export async function runCli(argv: string[]): Promise<number> {
  let config: CliConfig;
  try {
    config = loadCliConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`dkv: invalid configuration: ${e.message}\n`);
    return ExitCode.Usage;
  }
  try {
    await buildProgram(config).parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? ExitCode.Ok);
  } catch (e) {
    // Commander has already printed its message (or the help, which exits 0).
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (e instanceof CliError) {
      process.stderr.write(`dkv: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`dkv: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.Internal;
  }
}
