/**
 * The `dkv` client's exit codes, one per kind of failure a script may want to
 * tell apart; README and `dkv --help` list the same table.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

/** The exit codes of the `dkv` client commands. */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** An internal or unexpected error (a bug, data loss, an unknown server answer). */
  Internal: 1,
  /** Bad usage or input: unknown command or option, bad base64, empty key, malformed file. */
  Usage: 2,
  /** The key (or member) does not exist. */
  NotFound: 3,
  /** No endpoint could be reached, or the cluster could not answer in time (no leader, deadline). */
  Unavailable: 4,
  /** A precondition failed: compare-and-swap did not swap, or a membership change conflicts. */
  Precondition: 5,
  /** The server does not implement the call (a dkv version without it). */
  Unimplemented: 6,
} as const;

/** One of the ExitCode values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code table as `dkv --help` prints it. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  internal or unexpected error
  2  usage or bad input (unknown option, bad base64, empty key, malformed file)
  3  key or member not found
  4  no endpoint reachable, or no answer in time (no leader, deadline exceeded)
  5  precondition failed (cas did not swap; membership conflict)
  6  the server does not implement the call`;

/** A failure the CLI reports as one line on stderr and an exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Shorthand for a usage error (exit 2). */
export const usageError = (message: string) => new CliError(ExitCode.Usage, message);

/** The exit code for a gRPC status a server answered with. */
export function exitCodeOfGrpc(code: GrpcStatus): ExitCode {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return ExitCode.Usage;
    case GrpcStatus.NOT_FOUND:
      return ExitCode.NotFound;
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return ExitCode.Unavailable;
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
      return ExitCode.Precondition;
    case GrpcStatus.UNIMPLEMENTED:
      return ExitCode.Unimplemented;
    default:
      return ExitCode.Internal;
  }
}
