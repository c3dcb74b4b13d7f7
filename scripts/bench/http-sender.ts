/**
 * HTTP/1.1 requests for the load generator, written on raw keep-alive sockets: one socket per
 * connection, each request's bytes built once per key and target (a put's copied with its write's
 * number written in), replies read by ReplyReader
 * (http1-reply.ts) and drained without parsing their JSON, and one 100 ms sweep timer for
 * timeouts instead of a timer per request.
 *
 * Why not node:http's client: it cost the generator about 140 µs of CPU per request (put at 64
 * connections against dkv: half a core of the two the three servers share), so the figures
 * measured the generator as much as the servers, and pulled every dkv/etcd ratio toward 1. On
 * raw sockets the generator's cost per request is a fraction of that (bench's "gen CPU%").
 *
 * A connection sends one request at a time (no pipelining). In the open loop more requests than
 * connections may be due: they wait in their connection's queue, in order, and the wait counts.
 */
import net from 'node:net';
import { ReplyReader } from './http1-reply.js';
import type { Done, Sender } from './sender.js';
import { stampHttp, type Workload } from './workload.js';

/** One request, sent or waiting, for the timeout sweep. */
interface Request {
  bytes: Buffer;
  start: number;
  done: Done;
}

/** A key's request to a target: a put's is copied with its write's number at `stampAt`. */
interface Template {
  bytes: Buffer;
  stampAt: number | null;
}

interface Target {
  host: string;
  port: number;
  /** The request per key, built on first use. */
  requests: (Template | undefined)[];
}

/** One keep-alive socket to a target, the request on it and those waiting for it. */
interface Connection {
  target: Target;
  socket: net.Socket | null;
  reader: ReplyReader;
  current: Request | null;
  waiting: Request[];
}

/** Longest reply body kept for an error report. */
const MAX_ERROR_BODY = 300;

/** Requests of `workload` to the REST base URLs `bases` over `connections` connections. */
export class HttpSender implements Sender {
  private readonly targets: Target[];
  private readonly connections: Connection[] = [];
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    bases: string[],
    connections: number,
    private readonly workload: Workload,
    private readonly timeoutMs: number,
  ) {
    if (bases.length === 0) throw new Error('no HTTP targets');
    this.targets = bases.map((base) => {
      const url = new URL(base);
      if (url.protocol !== 'http:') throw new Error(`not an http:// URL: ${base}`);
      return { host: url.hostname, port: Number(url.port || 80), requests: [] };
    });
    // Connection c goes to target c % targets.
    for (let c = 0; c < Math.max(1, connections); c++) {
      const target = this.targets[c % this.targets.length]!;
      this.connections.push({ target, socket: null, reader: new ReplyReader(), current: null, waiting: [] });
    }
  }

  async open(): Promise<void> {
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  send(conn: number, key: number, seq: number, done: Done): void {
    const c = this.connections[conn % this.connections.length]!;
    const t = this.template(c.target, key);
    const bytes = t.stampAt === null ? t.bytes : stampHttp(t.bytes, t.stampAt, seq);
    const req: Request = { bytes, start: performance.now(), done };
    if (c.current === null) this.start(c, req);
    else c.waiting.push(req);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const c of this.connections) {
      const pending = c.current ? [c.current, ...c.waiting] : c.waiting;
      c.current = null;
      c.waiting = [];
      this.drop(c);
      for (const req of pending) req.done('closed');
    }
  }

  private template(t: Target, key: number): Template {
    let template = t.requests[key];
    if (template === undefined) {
      const shape = this.workload.http(key);
      let head = `${shape.method} ${shape.path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\n`;
      for (const [name, value] of Object.entries(shape.headers)) head += `${name}: ${String(value)}\r\n`;
      head += '\r\n';
      const headBytes = Buffer.from(head, 'latin1');
      template = {
        bytes: shape.body ? Buffer.concat([headBytes, shape.body]) : headBytes,
        stampAt: shape.stampAt === null ? null : headBytes.length + shape.stampAt,
      };
      t.requests[key] = template;
    }
    return template;
  }

  /** Send `req` on `c`, connecting first if it has no socket. */
  private start(c: Connection, req: Request): void {
    c.current = req;
    if (c.socket === null) {
      const socket = net.connect(c.target.port, c.target.host);
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        if (c.socket === socket) this.onData(c, chunk);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (c.socket === socket) this.fail(c, `socket ${err.code ?? err.name}`, err.message);
      });
      socket.on('close', () => {
        if (c.socket === socket) this.fail(c, 'socket closed', 'the server closed the connection');
      });
      c.socket = socket;
    }
    c.socket.write(req.bytes);
  }

  private onData(c: Connection, chunk: Buffer): void {
    let reply: ReturnType<ReplyReader['push']>;
    try {
      reply = c.reader.push(chunk);
    } catch (err) {
      this.fail(c, 'http malformed', (err as Error).message);
      return;
    }
    if (reply === null) return;
    const req = c.current;
    c.current = null;
    if (reply.close) this.drop(c);
    this.next(c);
    if (req === null) return; // a reply nobody asked for: the next read fails to parse
    if (reply.status >= 200 && reply.status < 300) req.done(null);
    else
      req.done(
        `http ${reply.status}`,
        reply.body.toString('utf8', 0, Math.min(reply.body.length, MAX_ERROR_BODY)),
      );
  }

  /** The request on `c` failed: end it, drop the socket (the next request reconnects). */
  private fail(c: Connection, kind: string, detail: string): void {
    const req = c.current;
    c.current = null;
    this.drop(c);
    this.next(c);
    req?.done(kind, detail);
  }

  private next(c: Connection): void {
    const req = c.waiting.shift();
    if (req) this.start(c, req);
  }

  private drop(c: Connection): void {
    const socket = c.socket;
    c.socket = null;
    c.reader.reset();
    socket?.destroy();
  }

  /** End every request older than the timeout; a sent one's socket is dropped. */
  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    const detail = `no reply within ${this.timeoutMs} ms`;
    for (const c of this.connections) {
      const expired = c.waiting.filter((r) => r.start <= cutoff);
      if (expired.length > 0) c.waiting = c.waiting.filter((r) => r.start > cutoff);
      if (c.current !== null && c.current.start <= cutoff) this.fail(c, 'timeout', detail);
      for (const req of expired) req.done('timeout', detail);
    }
  }
}
