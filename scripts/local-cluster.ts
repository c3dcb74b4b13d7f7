/**
 * `npm start`: a local three-node dkv cluster in the foreground, with the
 * original dkv's ports (gRPC 7070/8080/9090, REST 7071/8081/9091) and data
 * under ./data/<id>. Each node's log lines are prefixed with its id; Ctrl-C
 * stops all three cleanly (SIGTERM, then SIGKILL after a grace period).
 * DKV_NODE_FLAGS passes extra Node.js flags to every node, e.g.
 * `DKV_NODE_FLAGS="--cpu-prof --cpu-prof-dir=prof" npm start` for profiles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const nodes = [
  { id: 'a', rpc: 7070, rest: 7071 },
  { id: 'b', rpc: 8080, rest: 8081 },
  { id: 'c', rpc: 9090, rest: 9091 },
];
const cluster = nodes.map((n) => `${n.id}@127.0.0.1:${n.rpc}`).join(',');
const children: ChildProcess[] = [];
let stopping = false;

for (const n of nodes) {
  const dbPath = join(root, 'data', n.id);
  mkdirSync(dbPath, { recursive: true });
  const nodeFlags = (process.env.DKV_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(root, 'src', 'main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DKV_NODE_ID: n.id,
      DKV_CLUSTER: cluster,
      DKV_RPC_PORT: String(n.rpc),
      DKV_REST_PORT: String(n.rest),
      DKV_DB_PATH: dbPath,
      DKV_BIND_HOST: '127.0.0.1',
      DKV_LOG_LEVEL: process.env.DKV_LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => console.log(`[${n.id}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`[${n.id}] exited (${signal ?? `code ${code}`})`);
    if (!stopping) stopAll(1);
  });
  children.push(child);
}

console.log(`
dkv: three nodes starting (data in ./data). Try:
  curl -X POST localhost:7071/v0/kv -d '{"key":"aGVsbG8=","value":"d29ybGQ="}'
  curl localhost:9091/v0/kv/key/aGVsbG8=
  curl localhost:8081/v0/cluster/status
Ctrl-C stops the cluster.
`);

function stopAll(exitCode: number): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }, 15000);
  force.unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(
    () => process.exit(exitCode),
  );
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
