/**
 * Operating errors with a stable code. Every layer throws DkvError for
 * anything a client or operator can cause or fix; src/api/status-map.ts maps
 * each code to a gRPC status and an HTTP status in one place. Programmer
 * errors stay plain Errors (assertions) and crash.
 */

/** The stable error codes of dkv, and the gRPC status each maps to. */
export const ErrorCode = {
  /** Malformed input: bad base64, empty key, oversize key or value, bad JSON, bad parameter. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** The key does not exist. */
  NotFound: 'NOT_FOUND',
  /** No leader is reachable, the node is shutting down, or the request could not be replicated in time. */
  Unavailable: 'UNAVAILABLE',
  /** The request's deadline passed before it could be answered; a write's outcome is then unknown. */
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  /** The cluster cannot do this now (e.g. a membership change is already in progress). */
  FailedPrecondition: 'FAILED_PRECONDITION',
  /** The node's data is damaged (a log entry's checksum does not match): it stops serving. */
  DataLoss: 'DATA_LOSS',
  /** A bug or an unexpected failure. */
  Internal: 'INTERNAL',
} as const;

/** One of the ErrorCode values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An operating error that a client sees as a status code and this message. */
export class DkvError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DkvError';
  }
}

/** Shorthand constructors, so call sites read as the condition they report. */
export const invalidArgument = (message: string) => new DkvError(ErrorCode.InvalidArgument, message);
export const notFound = (message: string) => new DkvError(ErrorCode.NotFound, message);
export const unavailable = (message: string) => new DkvError(ErrorCode.Unavailable, message);
export const deadlineExceeded = (message: string) => new DkvError(ErrorCode.DeadlineExceeded, message);
export const failedPrecondition = (message: string) => new DkvError(ErrorCode.FailedPrecondition, message);
