/**
 * Tools some tests need from Debian beyond Node (docker-compose, Debian's
 * python3-grpcio and python3-grpc-tools), which scripts/ci-deps.sh installs.
 * A test whose tool is missing fails under CI=true and is skipped elsewhere,
 * so `npm test` still passes on a developer machine without apt.
 */
import { spawnSync } from 'node:child_process';

/** Whether a tool is there, and what the test does about it when it is not. */
export interface ToolStatus {
  present: boolean;
  /** Why the tool counts as missing and how to install it. */
  message: string;
  /** The `skip` option for node:test: a reason outside CI when missing, else false. */
  skip: string | false;
}

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** Probe a tool by running `command args` (exit 0 means present). */
export function debianTool(name: string, command: string, args: string[]): ToolStatus {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  const present = r.status === 0;
  const message = `${name} is missing (\`${[command, ...args].join(' ')}\` failed): run \`bash scripts/ci-deps.sh\` to install it from Debian`;
  return { present, message, skip: present || inCi ? false : message };
}

/** Debian's docker-compose (v1), which validates docker-compose.yml. */
export function dockerCompose(): ToolStatus {
  return debianTool('docker-compose', 'docker-compose', ['version']);
}

/** Debian's Python gRPC runtime and protoc plugin; they load only in /usr/bin/python3. */
export function pythonGrpc(): ToolStatus {
  return debianTool('python3-grpcio and python3-grpc-tools', '/usr/bin/python3', [
    '-c',
    'import grpc, grpc_tools.protoc',
  ]);
}
