/**
 * The daemon's REST server, in the node's thread or in a thread of its own
 * (rest-thread.ts; DKV_REST_THREAD). The two serve the same API; the thread
 * takes the HTTP and JSON work off the event loop that runs Raft.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { KvBackend } from './backend.js';
import { type BackendHostOptions, hostBackend } from './backend-host.js';
import type { NodeThreadMessage, RestThreadMessage } from './backend-wire.js';
import { closeHttpServer } from './close-http.js';
import { createOpsRoutes } from './ops-routes.js';
import { createRestHandler } from './rest.js';
import type { RestThreadData } from './rest-thread.js';
import type { SizeLimits } from './validate.js';

export interface RestServerOptions extends BackendHostOptions {
  backend: KvBackend;
  port: number;
  host: string;
  requestTimeoutMs: number;
  limits?: SizeLimits;
  /** Serve from a thread of its own. */
  thread: boolean;
  /** The REST thread stopped on its own (a crash): REST is no longer served. */
  onThreadFailure?: (error: Error) => void;
}

/** A listening REST server. */
export interface RestServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  port: number;
  /**
   * Stop taking requests, give those in flight up to `graceMs` to be answered, then drop every
   * connection; resolves once the server is closed.
   */
  close(graceMs: number): Promise<void>;
}

/** Start the REST server; rejects with the listen error (e.g. the port is taken). */
export function startRestServer(opts: RestServerOptions): Promise<RestServer> {
  return opts.thread ? startInThread(opts) : startInProcess(opts);
}

async function startInProcess(opts: RestServerOptions): Promise<RestServer> {
  const server = createServer(
    createRestHandler(opts.backend, {
      requestTimeoutMs: opts.requestTimeoutMs,
      log: opts.log,
      limits: opts.limits,
      ops: createOpsRoutes({ backend: opts.backend, metrics: opts.metrics }),
      observeRequest: opts.observeRequest,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: (graceMs) => closeHttpServer(server, graceMs),
  };
}

/**
 * The REST thread's young generation, in MB. Left to V8, a second isolate under 5,000 requests/s
 * grew its own young generation as far as the node's and added some 60 MB to the process (RSS
 * 250 MB against 186 in-process, npm run bench at 64 connections); capped at 8 MB it adds about
 * 40, half of which is the isolate and the modules it loads, with throughput within the noise.
 */
export const REST_THREAD_YOUNG_GENERATION_MB = 8;

/**
 * The worker running rest-thread.ts. From compiled JavaScript (the image) Node loads it directly;
 * from the TypeScript sources (npm start, bin/dkv.js, tests) it loads through tsx, as the node does.
 */
function restWorker(data: RestThreadData): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: REST_THREAD_YOUNG_GENERATION_MB };
  const typescript = import.meta.url.endsWith('.ts');
  const entry = new URL(typescript ? './rest-thread.ts' : './rest-thread.js', import.meta.url);
  if (!typescript) return new Worker(entry, { workerData: data, resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data, resourceLimits });
}

async function startInThread(opts: RestServerOptions): Promise<RestServer> {
  const worker = restWorker({
    port: opts.port,
    host: opts.host,
    requestTimeoutMs: opts.requestTimeoutMs,
    limits: opts.limits,
    metrics: opts.metrics !== undefined,
    observeRequests: opts.observeRequest !== undefined,
  });
  const serve = hostBackend(worker, opts);
  let closing = false;
  let onClosed = () => {};
  let settle: { resolve: (port: number) => void; reject: (e: Error) => void } | null = null;
  const listening = new Promise<number>((resolve, reject) => {
    settle = { resolve, reject };
  });
  worker.on('message', (message: RestThreadMessage) => {
    switch (message.t) {
      case 'batch':
        serve(message.items);
        break;
      case 'listening':
        settle?.resolve(message.port);
        break;
      case 'listen-failed':
        settle?.reject(new Error(message.message));
        break;
      case 'closed':
        onClosed();
        break;
    }
  });
  const failed = (error: Error) => {
    if (closing) return;
    closing = true; // one report, though a crash emits both 'error' and 'exit'
    // Before it listens, a failure is the start's to report; after, the daemon's to act on.
    if (settle !== null) settle.reject(error);
    else opts.onThreadFailure?.(error);
  };
  worker.on('error', failed);
  worker.on('exit', (code) => failed(new Error(`the REST thread exited (code ${code})`)));
  let port: number;
  try {
    port = await listening;
  } catch (e) {
    closing = true;
    await worker.terminate();
    throw e;
  }
  settle = null;
  return {
    port,
    close: async (graceMs) => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => {
        onClosed = resolve;
      });
      worker.postMessage({ t: 'close', graceMs } satisfies NodeThreadMessage);
      // The thread drops its connections after graceMs; its close callback follows.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, graceMs + 1000).unref())]);
      await worker.terminate();
    },
  };
}
