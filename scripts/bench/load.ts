/**
 * The load generator: sends one operation (put, linearizable get,
 * serializable get) of dkv or etcd to a list of targets over HTTP/JSON or
 * gRPC, and measures throughput, a latency histogram and errors by kind.
 *
 * Two ways to drive load:
 * - closed loop (default): C connections, each sending its next request as
 *   soon as the previous one completes; latency = completion - send.
 * - open loop (`rate`): requests are scheduled at fixed times, R per second,
 *   whatever the replies do; latency = completion - *intended* send time, so
 *   a server that falls behind shows its queueing delay instead of slowing
 *   the generator down (no coordinated omission). `connections` then bounds
 *   the HTTP sockets; requests beyond them wait in the agent's queue, and
 *   that wait is counted.
 *
 * Only requests completing inside the measured window (after the warm-up)
 * are counted. The generator shares the machine's cores with the servers, so
 * it measures its own CPU (process.cpuUsage over the window) for the report.
 * While it runs, a progress line is written to stderr if that is a TTY.
 */

import { GrpcSender } from './grpc-sender.js';
import { Histogram, type LatencySummary } from './histogram.js';
import { HttpSender } from './http-sender.js';
import type { Sender } from './sender.js';
import { type Operation, type System, Workload } from './workload.js';
import { WriteLedger } from './write-ledger.js';

/** What to send, where, and for how long. */
export interface LoadOptions {
  system: System;
  protocol: 'http' | 'grpc';
  /** REST base URLs (`http://127.0.0.1:port`) or gRPC addresses (`127.0.0.1:port`). */
  targets: string[];
  op: Operation;
  /** Closed loop: concurrent requests. Open loop: the most sockets (HTTP) in use. */
  connections: number;
  /** Open loop at this many requests per second; closed loop when absent. */
  rate?: number;
  /** The measured period, after the warm-up (ms). */
  durationMs?: number;
  /** Load sent before the measured period and left out of every figure (ms; default 0). */
  warmupMs?: number;
  /** Instead of a duration: send exactly this many requests, all measured (closed loop only). */
  requests?: number;
  /** Size of the keyspace (keys 0..keys-1). */
  keys: number;
  /** Random keys (default) or keys in order, wrapping around. */
  keyOrder?: 'random' | 'sequential';
  valueBytes: number;
  /** A request not answered within this is an error of kind `timeout` (default 10 s). */
  timeoutMs?: number;
  /** Prefix of the progress line; no progress line without it. */
  label?: string;
  /**
   * Where puts are numbered and their acknowledgements recorded, warm-up included, for the
   * lost-write check (write-ledger.ts); one of the run's own when absent.
   */
  ledger?: WriteLedger;
}

/** The measured figures of one run. */
export interface LoadResult {
  system: System;
  protocol: 'http' | 'grpc';
  op: Operation;
  connections: number;
  rate: number | null;
  targets: string[];
  /** Length of the measured window (s). */
  durationSec: number;
  /** Requests sent (open loop: scheduled) inside the window. */
  sent: number;
  /** Successful replies inside the window; the histogram holds exactly their latencies. */
  completed: number;
  /** completed / durationSec. */
  throughput: number;
  latency: LatencySummary;
  /** Failed requests inside the window, by kind (`http 503`, `socket ECONNRESET`, `timeout`, ...). */
  errors: Record<string, number>;
  errorCount: number;
  /** The first few distinct errors, with their reply body or message. */
  errorSamples: string[];
  /** This process's CPU over the window, in % of one core. */
  generatorCpuPercent: number;
  /** Requests still unanswered when the run ended (they were abandoned). */
  abandoned: number;
}

/** A finished run: the result and its histogram (for merging). */
export interface LoadRun {
  result: LoadResult;
  histogram: Histogram;
}

const MAX_ERROR_SAMPLES = 5;

/** Run one load and return its figures. */
export async function runLoad(opts: LoadOptions): Promise<LoadRun> {
  if (opts.connections < 1) throw new Error('connections must be >= 1');
  if (opts.durationMs === undefined && opts.requests === undefined) throw new Error('duration or requests');
  if (opts.rate !== undefined && opts.requests !== undefined) throw new Error('rate with requests');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const workload = new Workload(opts.system, opts.op, opts.keys, opts.valueBytes);
  const sender: Sender =
    opts.protocol === 'grpc'
      ? new GrpcSender(opts.targets, workload, timeoutMs)
      : new HttpSender(opts.targets, opts.connections, workload, timeoutMs);
  await sender.open();
  try {
    return await drive(opts, sender, timeoutMs);
  } finally {
    sender.close();
  }
}

async function drive(opts: LoadOptions, sender: Sender, timeoutMs: number): Promise<LoadRun> {
  const histogram = new Histogram();
  const errors: Record<string, number> = {};
  const errorSamples: string[] = [];
  const limit = opts.requests ?? Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  const windowStart = opts.requests === undefined ? t0 + (opts.warmupMs ?? 0) : t0;
  const windowEnd = opts.requests === undefined ? windowStart + opts.durationMs! : Number.POSITIVE_INFINITY;
  let stopped = false;
  let issued = 0;
  let outstanding = 0;
  let sent = 0;
  let completed = 0;
  let errorCount = 0;
  let answered = 0; // every reply, warm-up included, for the progress line
  let keySeq = 0;
  const nextKey =
    opts.keyOrder === 'sequential' ? () => keySeq++ % opts.keys : () => Math.floor(Math.random() * opts.keys);
  const ledger = opts.op === 'put' ? (opts.ledger ?? new WriteLedger()) : null;

  let finishRun: () => void = () => {};
  const finished = new Promise<void>((res) => {
    finishRun = res;
  });

  /** Send one request whose latency counts from `from` (its intended or actual send time). */
  const issue = (conn: number, from: number, then?: (conn: number) => void) => {
    issued++;
    outstanding++;
    if (from >= windowStart && from < windowEnd) sent++;
    const key = nextKey();
    const seq = ledger ? ledger.begin(key, performance.now()) : 0;
    sender.send(conn, key, seq, (kind, detail) => {
      outstanding--;
      answered++;
      const now = performance.now();
      if (ledger && kind === null) ledger.ack(seq, now);
      if (now >= windowStart && now <= windowEnd) {
        if (kind === null) {
          completed++;
          histogram.record((now - from) * 1000);
        } else {
          errorCount++;
          errors[kind] = (errors[kind] ?? 0) + 1;
          if (
            errorSamples.length < MAX_ERROR_SAMPLES &&
            !errorSamples.some((s) => s.startsWith(`${kind}:`))
          ) {
            errorSamples.push(`${kind}: ${(detail ?? '').trim()}`);
          }
        }
      }
      if (then && !stopped) then(conn);
      if ((stopped || issued >= limit) && outstanding === 0) finishRun();
    });
  };

  const timers: NodeJS.Timeout[] = [];
  let cpuStart = process.cpuUsage();
  let cpuWallStart = performance.now();
  let cpuPercent = 0;
  const markWindowStart = () => {
    cpuStart = process.cpuUsage();
    cpuWallStart = performance.now();
  };
  const markWindowEnd = () => {
    const used = process.cpuUsage(cpuStart);
    const wallUs = (performance.now() - cpuWallStart) * 1000;
    cpuPercent = wallUs > 0 ? ((used.user + used.system) / wallUs) * 100 : 0;
  };

  if (opts.requests === undefined) {
    if (windowStart > t0) timers.push(setTimeout(markWindowStart, windowStart - t0));
    timers.push(
      setTimeout(() => {
        markWindowEnd();
        stopped = true;
        if (outstanding === 0) finishRun();
        // Stragglers get the request timeout (and a little) to finish; then they are abandoned.
        timers.push(setTimeout(finishRun, timeoutMs + 1000));
      }, windowEnd - t0),
    );
  }

  if (opts.rate === undefined) {
    // Closed loop: each connection sends its next request when the previous one completes.
    const loop = (conn: number) => {
      if (stopped || issued >= limit) return;
      issue(conn, performance.now(), loop);
    };
    for (let c = 0; c < opts.connections && c < limit; c++) loop(c);
  } else {
    // Open loop: request i is due at t0 + i / rate, whether or not earlier ones were answered.
    const interval = 1000 / opts.rate;
    let i = 0;
    const tick = () => {
      const now = performance.now();
      for (let due = t0 + i * interval; !stopped && due <= now; due = t0 + i * interval) {
        issue(i % opts.connections, due);
        i++;
      }
    };
    tick();
    timers.push(setInterval(tick, 1));
  }

  const progress =
    opts.label && process.stderr.isTTY
      ? startProgress(opts, t0, windowEnd, () => ({ answered, errors: errorCount }))
      : null;

  await finished;
  for (const t of timers) clearTimeout(t);
  progress?.stop();
  if (opts.requests !== undefined) markWindowEnd();
  const durationSec =
    opts.requests === undefined ? opts.durationMs! / 1000 : (performance.now() - windowStart) / 1000;
  return {
    histogram,
    result: {
      system: opts.system,
      protocol: opts.protocol,
      op: opts.op,
      connections: opts.connections,
      rate: opts.rate ?? null,
      targets: opts.targets,
      durationSec,
      sent,
      completed,
      throughput: completed / durationSec,
      latency: histogram.summary(),
      errors,
      errorCount,
      errorSamples,
      generatorCpuPercent: cpuPercent,
      abandoned: outstanding,
    },
  };
}

/** The once-a-second progress line on stderr. */
function startProgress(
  opts: LoadOptions,
  t0: number,
  windowEnd: number,
  counts: () => { answered: number; errors: number },
): { stop(): void } {
  let last = 0;
  const total = opts.requests === undefined ? (windowEnd - t0) / 1000 : null;
  const timer = setInterval(() => {
    const { answered, errors } = counts();
    const elapsed = (performance.now() - t0) / 1000;
    const of =
      total === null ? `${answered}/${opts.requests}` : `${elapsed.toFixed(0)}/${total.toFixed(0)} s`;
    process.stderr.write(`\r\x1b[K${opts.label}  ${of}  ${answered - last} req/s  errors ${errors}`);
    last = answered;
  }, 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\r\x1b[K');
    },
  };
}
