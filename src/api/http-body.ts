/**
 * Reading a REST request body ourselves, whatever its Content-Type (the
 * original dkv's clients use `curl -d`, which says form-urlencoded but sends
 * JSON), with a size cap so no client can make a node buffer without bound.
 */
import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../errors.js';

/**
 * How much of an over-limit body we still read and discard before giving up
 * on the connection: draining lets the client read our 400 instead of a
 * reset, but a client that keeps sending is cut off.
 */
const DRAIN_FACTOR = 8;

/** The error for a body over the cap; it says what the limits are, not just that it was too big. */
function tooLarge(capBytes: number, what: string): Error {
  return invalidArgument(`request body is larger than ${capBytes} bytes, the limit for ${what}`);
}

/** Read and discard the rest of a refused body, up to a bound, then drop the connection. */
function drain(req: IncomingMessage, capBytes: number): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > capBytes * DRAIN_FACTOR) req.socket.destroy();
  });
  req.resume();
}

/**
 * The whole body of a request, or INVALID_ARGUMENT once it passes
 * `capBytes` (checked against Content-Length first, so a declared oversize
 * body is refused before any of it is read). `what` names the request in the
 * message ("a Put").
 */
export function readBody(req: IncomingMessage, capBytes: number, what: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > capBytes) {
      drain(req, capBytes);
      reject(tooLarge(capBytes, what));
      return;
    }
    new BodyReader(req, capBytes, what, resolve, reject);
  });
}

/**
 * One body being read. A class, not closures made per request: tsx (esbuild's
 * keepNames) would name each closure with a defineProperty call on every
 * request, which showed in the leader's profile.
 */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private readonly onData = this.data.bind(this);
  private readonly onEnd = this.end.bind(this);
  // A client that goes away mid-body gets no answer; rejecting only frees
  // the request, and as the client's doing it is not logged as our error.
  private readonly onGone = this.gone.bind(this);

  constructor(
    private readonly req: IncomingMessage,
    private readonly capBytes: number,
    private readonly what: string,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: Error) => void,
  ) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onGone);
    req.on('close', this.onGone);
  }

  private data(chunk: Buffer): void {
    this.length += chunk.length;
    if (this.length > this.capBytes) {
      this.cleanup();
      drain(this.req, this.capBytes);
      this.reject(tooLarge(this.capBytes, this.what));
      return;
    }
    this.chunks.push(chunk);
  }

  private end(): void {
    this.cleanup();
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length));
  }

  private gone(): void {
    this.cleanup();
    this.reject(invalidArgument('the client closed the connection before sending the whole body'));
  }

  private cleanup(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onGone);
    this.req.off('close', this.onGone);
  }
}
