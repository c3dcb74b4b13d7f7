import type { Server } from 'node:http';

/** How often a closing server looks for connections that have gone idle. */
const IDLE_SWEEP_MS = 25;

/**
 * Close an HTTP server gracefully: stop taking connections, let the requests in flight be answered
 * for up to `graceMs`, then drop every connection; resolves once the server is closed. A keep-alive
 * connection goes idle once its last response is sent, and Node closes idle connections only when
 * asked, so the sweep asks again until the server is closed.
 */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([closed, grace]);
  clearInterval(sweep);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
}
