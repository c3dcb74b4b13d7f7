/**
 * The container health check (the Dockerfile's HEALTHCHECK runs the compiled
 * dist/health-probe.js): exits 0 when this node's REST `/readyz` answers 200,
 * and 1 otherwise, printing why, which `docker inspect` shows. It reads the
 * node's own configuration so it probes the port and address the daemon
 * listens on, with the same defaults.
 */
import { ConfigError, loadConfig } from './config.js';

/** Docker's own --timeout ends the probe at 5 s; answer before that. */
const PROBE_TIMEOUT_MS = 4000;

/** Where to reach a server bound to `bindHost` from inside its own host. */
function probeHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return '127.0.0.1';
  if (bindHost === '::') return '[::1]';
  return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
}

async function probe(): Promise<number> {
  let url: string;
  try {
    const config = loadConfig(process.env);
    url = `http://${probeHost(config.bindHost)}:${config.restPort}/readyz`;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`unhealthy: invalid configuration: ${e.message}`);
    return 1;
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await res.text()).slice(0, 500);
    if (res.status === 200) {
      console.log(`ready: ${url} answered 200 ${body}`);
      return 0;
    }
    console.error(`not ready: ${url} answered ${res.status} ${body}`);
    return 1;
  } catch (e) {
    console.error(`unreachable: ${url}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

process.exitCode = await probe();
