/**
 * The one place that turns an error into what a client sees: a gRPC status
 * for gRPC callers, and for REST callers the HTTP status and JSON body that
 * grpc-gateway v2's DefaultHTTPErrorHandler writes (runtime/errors.go).
 */
import { status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';
import { DkvError, ErrorCode } from '../errors.js';
import { type ApiLog, defaultApiLog } from './log.js';

/** The gRPC status code of each dkv ErrorCode. */
export const GRPC_STATUS_OF: Readonly<Record<ErrorCode, GrpcStatus>> = {
  [ErrorCode.InvalidArgument]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: GrpcStatus.NOT_FOUND,
  [ErrorCode.Unavailable]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.DeadlineExceeded]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.FailedPrecondition]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.DataLoss]: GrpcStatus.DATA_LOSS,
  [ErrorCode.Internal]: GrpcStatus.INTERNAL,
};

/**
 * The HTTP status for a gRPC status code, as grpc-gateway v2's
 * runtime.HTTPStatusFromCode. Note FAILED_PRECONDITION is 400, not 412, and
 * CANCELLED is nginx's 499, as grpc-gateway answers since it followed
 * google/rpc/code.proto (grpc-gateway issue #2707).
 */
export function httpStatusFromGrpc(code: GrpcStatus): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.CANCELLED:
      return 499;
    case GrpcStatus.UNKNOWN:
      return 500;
    case GrpcStatus.INVALID_ARGUMENT:
      return 400;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
      return 409;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.FAILED_PRECONDITION:
      return 400;
    case GrpcStatus.ABORTED:
      return 409;
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    case GrpcStatus.UNIMPLEMENTED:
      return 501;
    case GrpcStatus.INTERNAL:
      return 500;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    case GrpcStatus.DATA_LOSS:
      return 500;
    default:
      return 500;
  }
}

/** What a client is told about a failure: a gRPC status code and a message. */
export interface ClientStatus {
  code: GrpcStatus;
  message: string;
}

/** The message a client gets for an error we did not expect; the details go to the log only. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';

/**
 * The status a client sees for any thrown value. A DkvError keeps its code
 * and message; anything else is a bug or an unplanned failure, so the client
 * gets INTERNAL with a generic message (its text may hold paths or internals)
 * and the real error is logged.
 */
export function clientStatusOf(e: unknown, log: ApiLog = defaultApiLog): ClientStatus {
  if (e instanceof DkvError) {
    return { code: GRPC_STATUS_OF[e.code] ?? GrpcStatus.INTERNAL, message: e.message };
  }
  log('error', 'unexpected error while serving a request', {
    err: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : String(e),
  });
  return { code: GrpcStatus.INTERNAL, message: INTERNAL_ERROR_MESSAGE };
}

/** The error a grpc-js unary handler passes to its callback for a thrown value. */
export function toGrpcError(e: unknown, log: ApiLog = defaultApiLog): ServerErrorResponse {
  const { code, message } = clientStatusOf(e, log);
  // grpc-js sends `details` as the status message; `message` is only for local logs.
  return Object.assign(new Error(message), { code, details: message });
}

/** An error response as grpc-gateway v2 writes it: the google.rpc.Status JSON and its HTTP status. */
export interface HttpError {
  status: number;
  body: { code: number; message: string; details: [] };
}

/** The HTTP error response for a gRPC status code and message, as grpc-gateway's error handler. */
export function httpErrorFromStatus(code: GrpcStatus, message: string): HttpError {
  return { status: httpStatusFromGrpc(code), body: { code, message, details: [] } };
}

/** The HTTP error response for any thrown value (unknown errors become a logged INTERNAL). */
export function toHttpError(e: unknown, log: ApiLog = defaultApiLog): HttpError {
  const { code, message } = clientStatusOf(e, log);
  return httpErrorFromStatus(code, message);
}
