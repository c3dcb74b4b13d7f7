/**
 * The contract between the load generator's loops (closed and open, in
 * load.ts) and a protocol (HTTP in http-sender.ts, gRPC in grpc-sender.ts).
 */

/**
 * How one request ended: `null` for a success, else an error kind such as
 * `http 503`, `socket ECONNRESET`, `grpc UNAVAILABLE` or `timeout`, with an
 * optional detail (a reply body or error message) for the report.
 */
export type Done = (errorKind: string | null, detail?: string) => void;

/** Sends requests of one workload to a fixed set of targets. */
export interface Sender {
  /** Wait until every target accepts connections (or throw). */
  open(): Promise<void>;
  /**
   * Send the request for key `key` on connection `conn` (0-based; a sender
   * maps connections to targets round robin); a put's value carries write
   * number `seq` (write-ledger.ts), a read ignores it. `done` is called
   * exactly once, never synchronously; a request that outlives the sender's
   * timeout ends with `timeout`.
   */
  send(conn: number, key: number, seq: number, done: Done): void;
  /** Drop every connection; requests still in flight end with an error. */
  close(): void;
}
