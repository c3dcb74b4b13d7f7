/**
 * HTTP/1.1 requests for the load generator with as little client overhead
 * as node:http allows: one keep-alive `http.Agent` per target whose
 * `maxSockets` is the number of connections mapped to that target (so C
 * concurrent requests hold C sockets and never reconnect), raw
 * `http.request` with prebuilt headers and body Buffers, replies drained
 * without parsing, and one 100 ms sweep timer for timeouts instead of a timer
 * per request.
 */
import http from 'node:http';
import type { Done, Sender } from './sender.js';
import type { Workload } from './workload.js';

/** One request in flight, for the timeout sweep. */
interface InFlight {
  req: http.ClientRequest;
  start: number;
  done: Done;
  finished: boolean;
}

interface Target {
  hostname: string;
  port: number;
  agent: http.Agent;
}

/** Longest reply body kept for an error report. */
const MAX_ERROR_BODY = 300;

/** Requests of `workload` to the REST base URLs `bases` over `connections` connections. */
export class HttpSender implements Sender {
  private readonly targets: Target[];
  private readonly inFlight = new Set<InFlight>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    bases: string[],
    connections: number,
    private readonly workload: Workload,
    private readonly timeoutMs: number,
  ) {
    if (bases.length === 0) throw new Error('no HTTP targets');
    this.targets = bases.map((base, t) => {
      const url = new URL(base);
      // Connections c with c % targets === t go to target t.
      const sockets = Math.max(1, Math.ceil((connections - t) / bases.length));
      return {
        hostname: url.hostname,
        port: Number(url.port || 80),
        agent: new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets }),
      };
    });
  }

  async open(): Promise<void> {
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  send(conn: number, key: number, done: Done): void {
    const target = this.targets[conn % this.targets.length]!;
    const shape = this.workload.http(key);
    const req = http.request({
      agent: target.agent,
      hostname: target.hostname,
      port: target.port,
      method: shape.method,
      path: shape.path,
      headers: shape.headers,
    });
    const rec: InFlight = { req, start: performance.now(), done, finished: false };
    this.inFlight.add(rec);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.on('error', (err) => this.finish(rec, socketKind(err), err.message));
      if (status >= 200 && status < 300) {
        res.on('end', () => this.finish(rec, null));
        res.resume();
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_ERROR_BODY) body += chunk;
      });
      res.on('end', () => this.finish(rec, `http ${status}`, body.slice(0, MAX_ERROR_BODY)));
    });
    req.on('error', (err) => this.finish(rec, socketKind(err), err.message));
    req.end(shape.body ?? undefined);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const rec of this.inFlight) {
      rec.req.destroy();
      this.finish(rec, 'closed');
    }
    for (const t of this.targets) t.agent.destroy();
  }

  private finish(rec: InFlight, kind: string | null, detail?: string): void {
    if (rec.finished) return;
    rec.finished = true;
    this.inFlight.delete(rec);
    rec.done(kind, detail);
  }

  /** End every request older than the timeout; its socket is destroyed, the agent opens a new one. */
  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    for (const rec of this.inFlight) {
      if (rec.start > cutoff) continue;
      rec.req.destroy();
      this.finish(rec, 'timeout', `no reply within ${this.timeoutMs} ms`);
    }
  }
}

function socketKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `socket ${code ?? err.name}`;
}
