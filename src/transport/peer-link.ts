/**
 * The sending half of the transport for one peer: a long-lived channel, one
 * client-streaming Send call on it carrying every batch in order, a bounded
 * queue behind it, and reconnection with backoff. Raft tolerates lost
 * messages but not a sender that blocks, so when the peer is slow or down
 * this drops messages (and says so through onUnreachable) instead of
 * buffering them without limit.
 */
import { type ClientWritableStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import type { MessageBatch, RaftTransportClient } from '../gen/dkv/raft/v1/raft.js';
import { Backoff } from './backoff.js';
import { PEER_CHANNEL_OPTIONS } from './channel-options.js';
import type { TransportLog } from './log.js';
import { PeerClient } from './peer-client.js';

/** How one peer link behaves; the defaults live in grpc-peer-transport.ts. */
export interface PeerLinkOptions {
  peerId: string;
  address: string;
  /** First reconnect wait after a failed stream; doubles per failure. */
  initialBackoffMs: number;
  /** Ceiling of the reconnect wait. */
  maxBackoffMs: number;
  /** A new stream that has not delivered a write within this time is abandoned (the peer is unreachable). */
  connectTimeoutMs: number;
  /** Messages written but not yet on the connection plus messages queued behind them; past this, the oldest are dropped. */
  maxQueuedMessages: number;
  /** Queued batches are merged into one write up to this estimated size. */
  maxBatchBytes: number;
  log: TransportLog;
  /** Tell the node the peer missed messages. */
  reportUnreachable(peerId: string): void;
}

/** A stream that stayed up this long was healthy: its failure starts the backoff afresh. */
const HEALTHY_STREAM_MS = 1_000;

/**
 * Writes handed to the call that have not reached the connection yet. Past
 * this, batches wait in our queue and leave as one merged write: under load
 * batches grow by themselves (fewer, larger gRPC messages), while an idle
 * link still sends each batch at once.
 */
const MAX_PIPELINED_WRITES = 2;

/** How long close() lets a half-closed stream finish before cancelling it. */
const CLOSE_GRACE_MS = 1_000;

/** One open Send call and what is known about it. */
interface OpenStream {
  call: ClientWritableStream<MessageBatch>;
  /** Messages handed to the call whose write callback has not fired (not yet on the connection). */
  inFlight: number;
  /** Writes whose callback has not fired. */
  writes: number;
  openedAtMs: number;
  /** A write reached the connection, so the peer is (or was) reachable. */
  healthy: boolean;
  /** The call's buffer is full: queue until 'drain'. */
  needDrain: boolean;
  connectTimer: NodeJS.Timeout | null;
  /** Resolves when the call has ended, however it ended. */
  ended: Promise<void>;
}

/** A batch waiting for its turn on the stream. */
interface QueuedBatch {
  batch: MessageBatch;
  count: number;
  /** Estimated encoded size. */
  bytes: number;
}

/** A call the link must cancel when it closes (an InstallSnapshot in progress). */
export interface CancellableCall {
  cancel(): void;
}

/** The channel and Send stream to one peer. */
export class PeerLink {
  /** The peer's channel, created once and shared by the Send stream and snapshot calls. */
  readonly client: RaftTransportClient;
  /** Snapshot calls in progress on this channel. */
  readonly snapshotCalls = new Set<CancellableCall>();
  private stream: OpenStream | null = null;
  private readonly queue: QueuedBatch[] = [];
  private queued = 0;
  private retryAtMs = 0;
  private readonly backoff: Backoff;
  /** Whether the last stream failed and no new one has worked yet (to log each outage once). */
  private failing = false;
  private closed = false;

  constructor(private readonly opts: PeerLinkOptions) {
    this.client = new PeerClient(opts.address, credentials.createInsecure(), PEER_CHANNEL_OPTIONS);
    this.backoff = new Backoff(opts.initialBackoffMs, opts.maxBackoffMs);
  }

  /** The address this link dials. */
  get address(): string {
    return this.opts.address;
  }

  /** Write one batch (of about `bytes` encoded) to the peer's stream, opening it if needed; never blocks, never throws. */
  send(batch: MessageBatch, bytes: number): void {
    if (this.closed) return;
    const count = batch.messages.length;
    let s = this.stream;
    if (s === null) {
      if (performance.now() < this.retryAtMs) {
        this.drop(count, 'waiting to reconnect');
        return;
      }
      s = this.open();
    }
    this.queue.push({ batch, count, bytes });
    this.queued += count;
    this.trim(s);
    this.pump(s);
  }

  /** End the stream (letting written batches reach the peer), cancel snapshot calls, close the channel. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queued = 0;
    for (const c of this.snapshotCalls) c.cancel();
    const s = this.stream;
    this.stream = null;
    if (s !== null) {
      if (s.connectTimer) clearTimeout(s.connectTimer);
      if (s.healthy) {
        s.call.end();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
        });
        await Promise.race([s.ended, grace]);
        clearTimeout(timer);
      }
      s.call.cancel();
      await s.ended;
    }
    this.client.close();
  }

  private open(): OpenStream {
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      markEnded = resolve;
    });
    const call = this.client.send((err: ServiceError | null) => {
      markEnded();
      this.broken(s, err ? `${status[err.code] ?? err.code}: ${err.details}` : 'the peer ended the stream');
    });
    const s: OpenStream = {
      call,
      inFlight: 0,
      writes: 0,
      openedAtMs: performance.now(),
      healthy: false,
      needDrain: false,
      connectTimer: null,
      ended,
    };
    // Writable errors (e.g. a write after the call died) must not become uncaught exceptions.
    call.on('error', (err: Error) => this.broken(s, err.message));
    s.connectTimer = setTimeout(() => {
      s.connectTimer = null;
      if (!s.healthy) this.broken(s, `no connection within ${this.opts.connectTimeoutMs} ms`);
    }, this.opts.connectTimeoutMs);
    s.connectTimer.unref();
    this.stream = s;
    return s;
  }

  /** Drop the oldest queued batches while the peer holds more than its share of messages. */
  private trim(s: OpenStream): void {
    let dropped = 0;
    while (s.inFlight + this.queued > this.opts.maxQueuedMessages && this.queue.length > 0) {
      const q = this.queue.shift()!;
      this.queued -= q.count;
      dropped += q.count;
    }
    if (dropped > 0) this.drop(dropped, 'the peer is not keeping up');
  }

  /** Write queued batches (merged) while the call has room; each write callback pumps again. */
  private pump(s: OpenStream): void {
    while (this.stream === s && !s.needDrain && s.writes < MAX_PIPELINED_WRITES && this.queue.length > 0) {
      const first = this.queue.shift()!;
      let { batch, count, bytes } = first;
      if (this.queue.length > 0 && bytes + this.queue[0]!.bytes <= this.opts.maxBatchBytes) {
        const messages = batch.messages.slice();
        while (this.queue.length > 0 && bytes + this.queue[0]!.bytes <= this.opts.maxBatchBytes) {
          const next = this.queue.shift()!;
          for (const m of next.batch.messages) messages.push(m);
          count += next.count;
          bytes += next.bytes;
        }
        batch = { ...batch, messages };
      }
      this.queued -= count;
      s.inFlight += count;
      s.writes++;
      const accepted = s.call.write(batch, (err: Error | null | undefined) => {
        s.inFlight -= count;
        s.writes--;
        if (err) return;
        if (!s.healthy) {
          s.healthy = true;
          if (s.connectTimer) clearTimeout(s.connectTimer);
          s.connectTimer = null;
          if (this.failing) {
            this.failing = false;
            this.opts.log('info', 'peer reachable again', { peer: this.opts.peerId });
          }
        }
        this.pump(s);
      });
      if (!accepted) {
        s.needDrain = true;
        s.call.once('drain', () => {
          s.needDrain = false;
          this.pump(s);
        });
      }
    }
  }

  /** The stream failed or ended: drop what it held, schedule the next attempt, tell the node. */
  private broken(s: OpenStream, reason: string): void {
    if (this.stream !== s) return;
    this.stream = null;
    if (s.connectTimer) clearTimeout(s.connectTimer);
    const lost = s.inFlight + this.queued;
    this.queue.length = 0;
    this.queued = 0;
    const now = performance.now();
    if (s.healthy && now - s.openedAtMs >= HEALTHY_STREAM_MS) this.backoff.reset();
    const waitMs = this.backoff.next();
    this.retryAtMs = now + waitMs;
    const fields = {
      peer: this.opts.peerId,
      address: this.opts.address,
      lost,
      retryInMs: Math.round(waitMs),
    };
    if (!this.failing) this.opts.log('warn', `stream to peer failed: ${reason}`, fields);
    else this.opts.log('debug', `stream to peer failed again: ${reason}`, fields);
    this.failing = true;
    s.call.cancel();
    if (!this.closed) this.opts.reportUnreachable(this.opts.peerId);
  }

  /** Messages that will never be sent: Raft re-sends what matters once told the peer is unreachable. */
  private drop(count: number, why: string): void {
    this.opts.log('debug', `dropped ${count} messages: ${why}`, { peer: this.opts.peerId });
    this.opts.reportUnreachable(this.opts.peerId);
  }
}
