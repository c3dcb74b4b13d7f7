/**
 * What crosses between the REST thread and the node's thread (rest-thread.ts):
 * the REST thread's backend calls, request observations and log lines go to
 * the node; answers come back. Both directions batch what one loop turn
 * produces into one message, because a message costs both threads far more
 * than an item in it does (64 puts in flight send one message, not 64).
 * Messages travel by structured clone, which drops classes: Buffers arrive
 * as Uint8Arrays and errors as bare Errors without their class or code, so
 * both are encoded here.
 */
import { DkvError, ErrorCode } from '../errors.js';
import type { ApiLog } from './log.js';

/** The node-thread operations the REST thread calls: the backend's, the metrics page and a ping. */
export const REMOTE_METHODS = [
  'put',
  'get',
  'delete',
  'range',
  'compareAndSwap',
  'status',
  'memberList',
  'memberAdd',
  'memberRemove',
  'transferLeadership',
  'shutdown',
  'metrics',
  'ping',
] as const;

/** One of REMOTE_METHODS. */
export type RemoteMethod = (typeof REMOTE_METHODS)[number];

/** An item the REST thread sends the node's thread. */
export type ToNode =
  | { t: 'call'; id: number; method: RemoteMethod; args: unknown[] }
  | { t: 'observe'; method: string; route: string; status: number; ms: number }
  | { t: 'log'; level: Parameters<ApiLog>[0]; msg: string; fields?: object };

/** A thrown value as it crosses: a DkvError keeps its code; anything else is internal. */
export interface WireError {
  code: ErrorCode | null;
  message: string;
  stack?: string;
}

/** The answer to one call. */
export type ToRest = { id: number; value: unknown } | { id: number; error: WireError };

/** A message from the REST thread. */
export type RestThreadMessage =
  | { t: 'batch'; items: ToNode[] }
  | { t: 'listening'; port: number }
  | { t: 'listen-failed'; message: string }
  | { t: 'closed' };

/** A message from the node's thread. */
export type NodeThreadMessage = { t: 'replies'; items: ToRest[] } | { t: 'close'; graceMs: number };

/** Where one end sends: a Worker, the worker's parentPort, or a MessagePort in tests. */
export interface WirePort {
  postMessage(message: unknown): void;
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** A thrown value, ready to cross. */
export function errorToWire(e: unknown): WireError {
  if (e instanceof DkvError) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: null, message: e.message, stack: e.stack };
  return { code: null, message: String(e) };
}

/** The error a WireError stands for: a DkvError with its code, or a plain Error (internal). */
export function errorFromWire(w: WireError): Error {
  if (w.code !== null && CODES.has(w.code)) return new DkvError(w.code, w.message);
  const error = new Error(w.message);
  if (w.stack !== undefined) error.stack = w.stack;
  return error;
}

/**
 * A value ready to cross: bytes that are a view into a larger buffer become an exact copy, since a
 * clone copies a view's whole ArrayBuffer (Node's small Buffers share an 8 KiB pool).
 */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength
      ? value
      : Uint8Array.prototype.slice.call(value);
  }
  if (Array.isArray(value)) return value.map(toWire);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toWire(v);
  return out;
}

/** A value as it arrived, with its bytes as Buffers again (no copy). */
export function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(fromWire);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromWire(v);
  return out;
}

/**
 * Collects items and sends them as one array once the current work is done: `schedule` decides
 * when (setImmediate after a poll phase's requests, queueMicrotask after a turn's results).
 */
export class Batcher<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly schedule: (flush: () => void) => void,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(this.flushScheduled);
  }

  /** Send what is waiting now (before a message that must follow it). */
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
