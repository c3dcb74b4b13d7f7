/**
 * Free TCP ports on loopback for the benchmark clusters: each is bound to
 * port 0, read and released, and never handed out twice by one process.
 */
import { createServer } from 'node:net';

const given = new Set<number>();

/** A free TCP port on 127.0.0.1, distinct from every port this process was given before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}
