/**
 * Reads HTTP/1.1 replies off a keep-alive socket for the load generator's raw sender: one reply
 * per request, never pipelined. Bodies framed by Content-Length or chunked transfer encoding;
 * a reply without either (HTTP/1.0 style, ended by close) is not supported: both dkv and etcd's
 * gateway frame theirs.
 */

/** One reply: its status, its body, and whether the server closes the connection after it. */
export interface Reply {
  status: number;
  body: Buffer;
  close: boolean;
}

/** A parsed status line and header block, and where the body starts in the buffered bytes. */
interface Head {
  status: number;
  close: boolean;
  /** Content-Length, or null for a chunked body. */
  length: number | null;
  bodyStart: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** A header block larger than this is not a reply from the servers benchmarked. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Incremental reader of one reply at a time; throws on bytes that are not an HTTP/1.1 reply. */
export class ReplyReader {
  private buffered: Buffer | null = null;
  private head: Head | null = null;

  /** Add bytes read from the socket; returns the reply once it is complete, else null. */
  push(chunk: Buffer): Reply | null {
    const buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = buf;
    if (this.head === null) {
      const end = buf.indexOf(HEADER_END);
      if (end === -1) {
        if (buf.length > MAX_HEAD_BYTES) throw new Error(`reply header over ${MAX_HEAD_BYTES} bytes`);
        return null;
      }
      this.head = parseHead(buf.toString('latin1', 0, end), end + HEADER_END.length);
    }
    const head = this.head;
    let body: Buffer | null;
    let consumed: number;
    if (head.length !== null) {
      consumed = head.bodyStart + head.length;
      if (buf.length < consumed) return null;
      body = buf.subarray(head.bodyStart, consumed);
    } else {
      const chunked = readChunked(buf, head.bodyStart);
      if (chunked === null) return null;
      ({ body, consumed } = chunked);
    }
    if (buf.length > consumed)
      throw new Error(`${buf.length - consumed} bytes after the reply (none was asked for)`);
    this.reset();
    return { status: head.status, body, close: head.close };
  }

  /** Forget any partial reply (the connection it came from is gone). */
  reset(): void {
    this.buffered = null;
    this.head = null;
  }
}

function parseHead(text: string, bodyStart: number): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  let close = m[1] === '0';
  let length: number | null = null;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'content-length') {
      length = Number(value);
      if (!Number.isSafeInteger(length) || length < 0) throw new Error(`bad content-length: ${value}`);
    } else if (name === 'transfer-encoding') chunked = value.includes('chunked');
    else if (name === 'connection') close = value.includes('close');
  }
  const status = Number(m[2]);
  // Replies that never carry a body (RFC 9112 §6.3).
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) length = 0;
  else if (chunked) length = null;
  else if (length === null) throw new Error('reply has neither content-length nor chunked encoding');
  return { status, close, length, bodyStart };
}

/** A complete chunked body from `start`, or null while incomplete (trailers are skipped). */
function readChunked(buf: Buffer, start: number): { body: Buffer; consumed: number } | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd === -1) return null;
    const sizeText = buf.toString('latin1', at, lineEnd).split(';')[0]!.trim();
    const size = Number.parseInt(sizeText, 16);
    if (!/^[0-9a-fA-F]+$/.test(sizeText) || !Number.isSafeInteger(size)) {
      throw new Error(`bad chunk size: ${JSON.stringify(sizeText.slice(0, 20))}`);
    }
    at = lineEnd + CRLF.length;
    if (size === 0) {
      // Optional trailer lines, then an empty line.
      for (;;) {
        const end = buf.indexOf(CRLF, at);
        if (end === -1) return null;
        const empty = end === at;
        at = end + CRLF.length;
        if (empty) return { body: Buffer.concat(parts), consumed: at };
      }
    }
    if (buf.length < at + size + CRLF.length) return null;
    parts.push(buf.subarray(at, at + size));
    at += size;
    if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw new Error('chunk not followed by CRLF');
    at += CRLF.length;
  }
}
