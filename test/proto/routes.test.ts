/**
 * The REST route table of DESIGN.md §4, read from the `google.api.http`
 * annotations of proto/dkv/v0, so a route that drifts from the design fails
 * here before any client notices.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClusterServiceService } from '../../src/gen/dkv/v0/cluster.js';
import { KVStoreService } from '../../src/gen/dkv/v0/kvstore.js';

const PROTO_DIR = new URL('../../proto/', import.meta.url);

/** One rpc of a .proto file and its HTTP binding, if it has one. */
interface Rpc {
  service: string;
  name: string;
  request: string;
  http: { method: string; path: string; body: string | null; extraBindings: boolean } | null;
}

/** The route table of DESIGN.md §4: `Service.Method → "VERB /path [body]"`. */
const DESIGN_ROUTES: Record<string, string> = {
  'KVStore.Put': 'POST /v0/kv body=*',
  'KVStore.Get': 'GET /v0/kv/key/{key}',
  'KVStore.Delete': 'DELETE /v0/kv/key/{key}',
  'KVStore.Range': 'GET /v0/kv',
  'KVStore.CompareAndSwap': 'POST /v0/kv/cas body=*',
  'ClusterService.Status': 'GET /v0/cluster/status',
  'ClusterService.MemberList': 'GET /v0/cluster/members',
  'ClusterService.MemberAdd': 'POST /v0/cluster/members body=*',
  'ClusterService.MemberRemove': 'DELETE /v0/cluster/members/{id}',
  'ClusterService.TransferLeadership': 'POST /v0/cluster/leader body=*',
  'ClusterService.Shutdown': 'POST /v0/cluster/shutdown body=*',
};

/** The text of a .proto file with its comments removed (no string in our protos contains `//`). */
function readProto(relativePath: string): string {
  return readFileSync(new URL(relativePath, PROTO_DIR), 'utf8').replace(/\/\/[^\n]*/g, '');
}

/** Every rpc declared in a .proto text, with the service it belongs to. */
function parseRpcs(text: string): Rpc[] {
  const rpcs: Rpc[] = [];
  const services = [...text.matchAll(/\bservice\s+(\w+)\s*\{/g)];
  services.forEach((service, i) => {
    const start = service.index + service[0].length;
    const end = services[i + 1]?.index ?? text.length;
    const body = text.slice(start, end);
    // An rpc ends with `;` or with a block that nests at most one level of braces.
    const rpcPattern =
      /\brpc\s+(\w+)\s*\(\s*(?:stream\s+)?([\w.]+)\s*\)\s*returns\s*\(\s*(?:stream\s+)?[\w.]+\s*\)\s*(;|\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\})/g;
    for (const rpc of body.matchAll(rpcPattern)) {
      rpcs.push({ service: service[1]!, name: rpc[1]!, request: rpc[2]!, http: parseHttpRule(rpc[4] ?? '') });
    }
  });
  return rpcs;
}

/** The `option (google.api.http)` of an rpc block, or null if it has none. */
function parseHttpRule(block: string): Rpc['http'] {
  const option = /option\s*\(\s*google\.api\.http\s*\)\s*=\s*\{((?:[^{}]|\{[^{}]*\})*)\}/.exec(block);
  if (!option) return null;
  const rule = option[1]!;
  const patterns = [...rule.matchAll(/\b(get|put|post|delete|patch)\s*:\s*"([^"]*)"/g)];
  assert.equal(patterns.length, 1, `expected exactly one HTTP pattern in: ${rule}`);
  const body = /\bbody\s*:\s*"([^"]*)"/.exec(rule);
  return {
    method: patterns[0]![1]!.toUpperCase(),
    path: patterns[0]![2]!,
    body: body ? body[1]! : null,
    extraBindings: /\badditional_bindings\b/.test(rule),
  };
}

/** The field names of a message declared in a .proto text. */
function messageFields(text: string, message: string): string[] {
  const match = new RegExp(`\\bmessage\\s+${message}\\s*\\{([^}]*)\\}`).exec(text);
  assert.ok(match, `message ${message} not found`);
  return [...match[1]!.matchAll(/(?:repeated\s+)?[\w.]+\s+(\w+)\s*=\s*\d+\s*;/g)].map((m) => m[1]!);
}

const publicProtos = readdirSync(new URL('dkv/v0/', PROTO_DIR))
  .filter((name) => name.endsWith('.proto'))
  .sort()
  .map((name) => `dkv/v0/${name}`);
const publicText = publicProtos.map(readProto).join('\n');
const publicRpcs = parseRpcs(publicText);

test('the parser finds every rpc of the public protos', () => {
  assert.deepEqual(publicProtos, ['dkv/v0/cluster.proto', 'dkv/v0/kvstore.proto']);
  // Cross-check against the generated service definitions, which protoc built
  // from the same files.
  // A method's path is `/dkv.v0.<Service>/<Method>`.
  const generated = [...Object.values(ClusterServiceService), ...Object.values(KVStoreService)]
    .map((m) => m.path.replace(/^\/dkv\.v0\.(\w+)\/(\w+)$/, '$1.$2'))
    .sort();
  assert.deepEqual(publicRpcs.map((r) => `${r.service}.${r.name}`).sort(), generated);
});

test('the REST routes are exactly those of DESIGN.md section 4', () => {
  const routes = Object.fromEntries(
    publicRpcs.map((rpc) => {
      assert.ok(rpc.http, `${rpc.service}.${rpc.name} has no google.api.http annotation`);
      assert.equal(rpc.http.extraBindings, false, `${rpc.service}.${rpc.name} has additional_bindings`);
      const body = rpc.http.body === null ? '' : ` body=${rpc.http.body}`;
      return [`${rpc.service}.${rpc.name}`, `${rpc.http.method} ${rpc.http.path}${body}`];
    }),
  );
  assert.deepEqual(routes, DESIGN_ROUTES);
});

test('every path variable names a field of the request message', () => {
  for (const rpc of publicRpcs) {
    const fields = messageFields(publicText, rpc.request);
    for (const variable of rpc.http?.path.matchAll(/\{(\w+)\}/g) ?? []) {
      assert.ok(
        fields.includes(variable[1]!),
        `${rpc.name}: {${variable[1]}} is not a field of ${rpc.request}`,
      );
    }
  }
});

test('Range and Get take their options from the query string', () => {
  assert.deepEqual(messageFields(publicText, 'RangeRequest'), [
    'prefix',
    'limit',
    'page_token',
    'consistency',
  ]);
  assert.deepEqual(messageFields(publicText, 'GetRequest'), ['key', 'consistency']);
});

test('the peer protocol has no REST routes', () => {
  const raftRpcs = parseRpcs(readProto('dkv/raft/v1/raft.proto'));
  assert.deepEqual(
    raftRpcs.map((r) => `${r.service}.${r.name}`),
    ['RaftTransport.Send', 'RaftTransport.InstallSnapshot'],
  );
  assert.ok(raftRpcs.every((r) => r.http === null));
});
