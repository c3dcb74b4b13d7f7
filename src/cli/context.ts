/**
 * What every client command runs with: the global options, parsed once, and
 * the client and output built from them.
 */
import type { Command } from 'commander';
import { type CliConfig, ConfigError, parseEndpoints } from '../config.js';
import { DkvClient } from './client.js';
import { usageError } from './exit-codes.js';
import { Output, parseOutputFormat } from './output.js';

/** The global options as commander hands them over. */
interface GlobalOptions {
  endpoints?: string;
  timeout: string;
  base64?: boolean;
  output: string;
  verbose?: boolean;
}

/** A running command's client, output and settings. */
export interface Ctx {
  client: DkvClient;
  out: Output;
  /** Keys and values are given and printed as base64. */
  base64: boolean;
  verbose: boolean;
  /** Per-attempt deadline of a call, in milliseconds. */
  timeoutMs: number;
  config: CliConfig;
}

/** Parse a whole positive number option; `what` names it in the usage error. */
export function positiveIntOption(text: string, what: string, min = 1): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw usageError(`${what} must be a whole number of at least ${min}, not "${text}"`);
  }
  return n;
}

/** Build the context from a command's options (its own and the global ones). */
export function makeCtx(cmd: Command, config: CliConfig): Ctx {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  let endpoints = config.endpoints;
  if (o.endpoints !== undefined) {
    try {
      endpoints = parseEndpoints(o.endpoints, '--endpoints');
    } catch (e) {
      if (e instanceof ConfigError) throw usageError(e.message);
      throw e;
    }
  }
  const timeoutMs = positiveIntOption(o.timeout, '--timeout');
  const verbose = o.verbose === true;
  const out = new Output(parseOutputFormat(o.output));
  const client = new DkvClient(endpoints, timeoutMs, (line) => {
    if (verbose) out.note(`dkv: ${line}`);
  });
  return { client, out, base64: o.base64 === true, verbose, timeoutMs, config };
}

/** Run a command body with a fresh context and close its connections afterwards. */
export async function withCtx(
  cmd: Command,
  config: CliConfig,
  body: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const ctx = makeCtx(cmd, config);
  try {
    await body(ctx);
  } finally {
    ctx.client.close();
  }
}
