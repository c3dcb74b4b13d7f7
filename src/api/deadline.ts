/**
 * Request deadlines. Every request gets one (the client's, or the server's
 * default timeout) and the backend is told it; the API also stops waiting
 * shortly after it, so that a client is answered even if a backend fails to
 * honour its deadline (DESIGN.md section 4: never a hang).
 */
import type { Deadline } from '@grpc/grpc-js';
import { DeadlineQueue } from '../deadline-queue.js';
import { deadlineExceeded } from '../errors.js';

/** How long after a deadline the API stops waiting: the backend's own, more specific error should win the race. */
export const DEADLINE_GRACE_MS = 50;

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * A Grpc-Timeout header value ("100m", "5S") in milliseconds, or null if
 * malformed; parsed as grpc-gateway's timeoutDecode (runtime/context.go).
 */
export function parseGrpcTimeout(value: string): number | null {
  const unit = UNIT_MS[value.slice(-1)];
  const amount = value.slice(0, -1);
  if (value.length < 2 || unit === undefined || !/^[+-]?[0-9]+$/.test(amount)) return null;
  return Number(amount) * unit;
}

/**
 * The absolute deadline (Date.now() milliseconds) for a gRPC call: the
 * client's if it set one, else now + the default timeout.
 */
export function grpcCallDeadlineMs(deadline: Deadline, defaultTimeoutMs: number, now = Date.now()): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : now + defaultTimeoutMs;
}

/** The deadlines of every call waiting in withDeadline, on one timer. */
const deadlines = new DeadlineQueue();

/**
 * `work`, unless it is still pending DEADLINE_GRACE_MS after `deadlineMs`: then
 * DEADLINE_EXCEEDED. The work is not cancelled (a write may still commit),
 * which is why the message says its outcome is unknown.
 */
export function withDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // A deadline already past still gets its grace: the backend's own error should win.
    const deadline = deadlines.add(Math.max(deadlineMs, Date.now()) + DEADLINE_GRACE_MS, () => {
      reject(
        deadlineExceeded(
          'the request deadline passed before the node answered; a write may or may not have been applied',
        ),
      );
    });
    work.then(
      (value) => {
        deadlines.cancel(deadline);
        resolve(value);
      },
      (error: unknown) => {
        deadlines.cancel(deadline);
        reject(error);
      },
    );
  });
}
