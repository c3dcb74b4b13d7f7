/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl-style
 * tools can list, describe and call the public services without .proto files
 * of their own. The descriptors come from proto/ itself, loaded at start-up:
 * the proto/ directory ships with the daemon (it is the contract), and what
 * reflection describes is then exactly what the generated code was built from.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/**
 * The files reflection describes: the public API and the health service. The
 * Raft peer protocol (dkv/raft) is left out on purpose: it is not for clients.
 */
export const REFLECTED_PROTOS: readonly string[] = [
  'dkv/v0/kvstore.proto',
  'dkv/v0/cluster.proto',
  'grpc/health/v1/health.proto',
];

/**
 * The proto/ directory that ships with this code: the nearest one holding
 * every reflected file, looking up from this module's directory (the sources
 * run from src/api, a build from dist/api or wherever tsc wrote it). Null if
 * there is none.
 */
export function findProtoDir(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'proto');
    if (REFLECTED_PROTOS.every((f) => existsSync(join(candidate, f)))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Register the reflection service on a gRPC server. Throws naming the
 * problem if the .proto files cannot be found or read, so a daemon installed
 * without proto/ fails at start-up rather than answering reflection wrongly.
 */
export function addReflectionService(server: Server, protoDir = findProtoDir()): void {
  if (protoDir === null) {
    throw new Error(
      `server reflection: no proto/ directory with ${REFLECTED_PROTOS.join(', ')} above ${dirname(fileURLToPath(import.meta.url))} (the proto/ directory must ship with dkv)`,
    );
  }
  let definition: ReturnType<typeof loadSync>;
  try {
    definition = loadSync([...REFLECTED_PROTOS], { includeDirs: [protoDir] });
  } catch (e) {
    throw new Error(
      `server reflection: cannot load the .proto files from ${protoDir} (the proto/ directory must ship with dkv): ${(e as Error).message}`,
    );
  }
  // The package's typings name its own copy of proto-loader; the definition's shape is the same.
  new ReflectionService(definition as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);
}
