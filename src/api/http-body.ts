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
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > capBytes) {
        cleanup();
        drain(req, capBytes);
        reject(tooLarge(capBytes, what));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    };
    // A client that goes away mid-body gets no answer; rejecting only frees
    // the request, and as the client's doing it is not logged as our error.
    const onError = () => {
      cleanup();
      reject(invalidArgument('the client closed the connection before sending the whole body'));
    };
    const onClose = onError;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
