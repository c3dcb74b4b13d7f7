import type { Message } from './types.js';

/** One ReadIndex request waiting for a quorum of heartbeat acknowledgements. */
export interface ReadIndexStatus {
  /** The commit index when the request arrived: safe to read once applied. */
  index: number;
  /** The request (from a local client or forwarded by a follower). */
  req: Message;
  acks: Set<string>;
}

/** Stable string form of a request context, for use as a map key. */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4): each request records
 * the commit index, and is answered once a heartbeat round carrying its
 * context is acknowledged by a quorum, proving we were still leader.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  addRequest(index: number, req: Message): void {
    const key = contextKey(req.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req, acks: new Set() });
    this.queue.push(key);
  }

  /** Record an acknowledgement of ctx's heartbeat; returns who has acknowledged it so far. */
  recvAck(id: string, ctx: Uint8Array): Set<string> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** ctx reached a quorum: it and every request queued before it are confirmed. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs) out.push(rs);
      this.pending.delete(k);
    }
    return out;
  }

  /** The newest pending context, sent with heartbeats so they confirm outstanding reads. */
  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.req.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
