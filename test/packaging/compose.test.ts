/**
 * The packaging: docker-compose.yml validated by Debian's docker-compose,
 * its requirements and the Dockerfile's checked, and the three services run
 * as local processes with exactly the environment the compose file (on top of
 * the image's ENV) gives each container, service host names mapped to
 * loopback addresses of their own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, parseCluster } from '../../src/config.js';
import { b64, b64url, type DkvProcess, sleep, spawnDkv, stopProcess } from '../integration/harness.js';
import {
  durationMs,
  execForm,
  imageEnv,
  parseCompose,
  readCompose,
  readFinalStage,
  repoRoot,
  serviceEnv,
  servicePorts,
  serviceVolumes,
} from './compose-file.js';
import { dockerCompose } from './debian-tools.js';

const compose = readCompose();
const stage = readFinalStage();
const names = Object.keys(compose.services).sort();

/** The environment a service's container gets: the image's ENV, overridden by the compose file's. */
function containerEnv(service: string): Record<string, string> {
  return { ...imageEnv(stage), ...serviceEnv(compose.services[service]!) };
}

function instruction(keyword: string): string[] {
  return stage.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The compiled entry point the image's `dkv` wrapper runs, e.g. `main` for /app/dist/main.js. */
function imageEntry(): string {
  const wrapper = instruction('RUN').find((r) => r.includes('/usr/local/bin/dkv'));
  assert.ok(wrapper, 'the Dockerfile writes no /usr/local/bin/dkv wrapper');
  const m = /exec node [^\n]*?\/app\/dist\/([\w/.-]+)\.js/.exec(wrapper);
  assert.ok(m, `the dkv wrapper runs no /app/dist/*.js: ${wrapper}`);
  return m[1]!;
}

describe('docker-compose config (Debian docker-compose v1)', () => {
  const tool = dockerCompose();

  test('validates docker-compose.yml, resolving each service to the environment the tests read', {
    skip: tool.skip,
  }, () => {
    assert.ok(tool.present, tool.message);
    const q = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(q.status, 0, `docker-compose config -q failed:\n${q.stderr}`);
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    // docker-compose's own reading of the file (merge keys resolved) must be
    // the one this test's YAML parse makes, or part (c) would run other envs.
    const resolved = parseCompose(r.stdout);
    assert.deepEqual(Object.keys(resolved.services).sort(), names);
    for (const name of names) {
      assert.deepEqual(serviceEnv(resolved.services[name]!), serviceEnv(compose.services[name]!), name);
      assert.equal(resolved.services[name]!.restart, compose.services[name]!.restart, name);
    }
  });

  test('rejects a compose file with an unknown option, naming it', { skip: tool.skip }, () => {
    assert.ok(tool.present, tool.message);
    const dir = mkdtempSync(join(tmpdir(), 'dkv-compose-'));
    try {
      const text = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8').replace(
        'restart: unless-stopped',
        'restrat: unless-stopped',
      );
      writeFileSync(join(dir, 'docker-compose.yml'), text);
      const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /restrat/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml', () => {
  test('has three services dkv1, dkv2, dkv3, each built from the Dockerfile', () => {
    assert.deepEqual(names, ['dkv1', 'dkv2', 'dkv3']);
    for (const name of names) {
      const build = compose.services[name]!.build;
      const context = typeof build === 'string' ? build : build?.context;
      const dockerfile = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      assert.equal(context, '.', `${name} is not built from the repository`);
      assert.equal(dockerfile, 'Dockerfile', name);
    }
  });

  test('each service is configured as its own member of one cluster, named by service names', () => {
    for (const name of names) {
      const env = containerEnv(name);
      assert.equal(env.DKV_NODE_ID, name);
      assert.equal(env.DKV_BIND_HOST, '0.0.0.0', `${name} must listen on the container's network`);
      const config = loadConfig(env); // the daemon's own validation
      assert.deepEqual(
        parseCluster(env.DKV_CLUSTER!),
        names.map((id) => ({ id, address: `${id}:${config.rpcPort}` })),
        `${name}: DKV_CLUSTER must name every service by its service name and gRPC port`,
      );
    }
    const clusters = new Set(names.map((n) => containerEnv(n).DKV_CLUSTER));
    assert.equal(clusters.size, 1, 'every service must be given the same DKV_CLUSTER');
  });

  test('publishes both ports of every node on distinct host ports', () => {
    const seen = new Set<string>();
    for (const name of names) {
      const config = loadConfig(containerEnv(name));
      const ports = servicePorts(compose.services[name]!);
      assert.deepEqual(
        ports.map((p) => p.target).sort(),
        [config.rpcPort, config.restPort].sort(),
        `${name} must publish its gRPC and REST ports`,
      );
      for (const p of ports) {
        assert.ok(Number.isInteger(p.published) && p.published > 0, `${name}: no host port for ${p.target}`);
        const key = `${p.hostIp}:${p.published}`;
        assert.ok(!seen.has(key), `host port ${key} is used twice`);
        seen.add(key);
      }
    }
    assert.equal(seen.size, 6);
  });

  test('one named volume per node, holding DKV_DB_PATH', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const name of names) {
      const mounts = serviceVolumes(compose.services[name]!);
      const dbPath = containerEnv(name).DKV_DB_PATH!;
      const data = mounts.find((m) => !relative(m.target, dbPath).startsWith('..'));
      assert.ok(data, `${name}: DKV_DB_PATH ${dbPath} is not on a volume`);
      assert.ok(declared.includes(data.source), `${name}: ${data.source} is not a named volume`);
      assert.ok(!used.has(data.source), `volume ${data.source} is shared`);
      used.add(data.source);
    }
    assert.equal(used.size, 3);
  });

  test('restarts unless stopped, and gives a node longer than its shutdown timeout to stop', () => {
    for (const name of names) {
      const s = compose.services[name]!;
      assert.equal(s.restart, 'unless-stopped', name);
      const grace = durationMs(s.stop_grace_period ?? '10s');
      const shutdown = loadConfig(containerEnv(name)).shutdownTimeoutMs;
      assert.ok(
        grace > shutdown,
        `${name}: stop_grace_period ${grace} ms <= DKV_SHUTDOWN_TIMEOUT_MS ${shutdown}`,
      );
    }
  });

  test('keeps the image health check (not disabled by a service)', () => {
    for (const name of names) {
      const hc = compose.services[name]!.healthcheck;
      assert.ok(hc === undefined || (!hc.disable && hc.test !== 'NONE'), `${name} disables the health check`);
    }
  });
});

describe('Dockerfile', () => {
  test('runs as a non-root user', () => {
    const users = instruction('USER');
    assert.ok(users.length > 0, 'the final stage has no USER');
    assert.doesNotMatch(users.at(-1)!, /^(root|0)(:|$)/);
  });

  test('starts node under tini, so signals reach it', () => {
    assert.ok(
      instruction('RUN').some((r) => /apt-get install[^&]*\btini\b/.test(r)),
      'tini is not installed',
    );
    const entry = execForm(instruction('ENTRYPOINT').at(-1) ?? '[]');
    assert.deepEqual(entry, ['/usr/bin/tini', '--']);
    assert.deepEqual(execForm(instruction('CMD').at(-1) ?? '[]'), ['dkv']);
  });

  test('runs the compiled form of the entry point bin/dkv.js runs', () => {
    const bin = readFileSync(join(repoRoot, 'bin', 'dkv.js'), 'utf8');
    const m = /import\(['"]\.\.\/src\/([\w/.-]+)\.ts['"]\)/.exec(bin);
    assert.ok(m, 'bin/dkv.js imports no ../src/*.ts');
    assert.equal(imageEntry(), m[1]);
  });

  test('checks health with the compiled probe of /readyz', () => {
    const hc = instruction('HEALTHCHECK').at(-1);
    assert.ok(hc, 'no HEALTHCHECK');
    const cmd = execForm(hc.slice(hc.indexOf('CMD') + 3));
    assert.deepEqual(cmd, ['node', '/app/dist/health-probe.js']);
    assert.match(readFileSync(join(repoRoot, 'src', 'health-probe.ts'), 'utf8'), /\/readyz/);
  });

  test('exposes the ports, and keeps the data in a volume', () => {
    const env = imageEnv(stage);
    const exposed = instruction('EXPOSE').join(' ').split(/\s+/);
    assert.ok(exposed.includes(env.DKV_RPC_PORT!) && exposed.includes(env.DKV_REST_PORT!), exposed.join(' '));
    const volumes = instruction('VOLUME').flatMap((v) => execForm(v));
    assert.ok(
      volumes.some((v) => !relative(v, env.DKV_DB_PATH!).startsWith('..')),
      `DKV_DB_PATH ${env.DKV_DB_PATH} is in no VOLUME (${volumes.join(', ')})`,
    );
  });

  test('.dockerignore keeps local state out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', '.git', 'data', 'dist', 'bench-results', '.scratch']) {
      assert.ok(ignored.includes(p), `.dockerignore lacks ${p}`);
    }
  });
});

/** Each service's own loopback address, standing in for its container's address. */
const loopback: Record<string, string> = { dkv1: '127.0.0.11', dkv2: '127.0.0.12', dkv3: '127.0.0.13' };

describe('the compose services as local processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dkv-compose-run-'));
  // The image's compiled code, built as the Dockerfile does, inside the
  // repository so node_modules resolves from it.
  const dist = join(repoRoot, '.scratch', `compose-dist-${process.pid}`);
  const procs = new Map<string, DkvProcess>();
  const envs = new Map<string, Record<string, string>>();

  function describeAll(): string {
    return [...procs].map(([n, p]) => `--- ${n}\n${p.output.join('').slice(-3000)}`).join('\n');
  }

  async function rest(
    service: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const config = loadConfig(envs.get(service)!);
    const res = await fetch(`http://${config.bindHost}:${config.restPort}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Run the compiled health probe with a service's environment. */
  function probe(service: string): { status: number | null; output: string } {
    const r = spawnSync(process.execPath, [join(dist, 'health-probe.js')], {
      env: { PATH: process.env.PATH ?? '', ...envs.get(service)! },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, output: r.stdout + r.stderr };
  }

  before(() => {
    mkdirSync(dist, { recursive: true });
    const tsc = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        dist,
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    assert.equal(tsc.status, 0, `npm run build's compile failed:\n${tsc.stdout}${tsc.stderr}`);
    for (const name of names) {
      const env = containerEnv(name);
      const volume = serviceVolumes(compose.services[name]!).find(
        (m) => !relative(m.target, env.DKV_DB_PATH!).startsWith('..'),
      )!;
      let cluster = env.DKV_CLUSTER!;
      for (const [service, addr] of Object.entries(loopback)) {
        cluster = cluster.replace(new RegExp(`@${service}:`, 'g'), `@${addr}:`);
      }
      const local = {
        ...env,
        DKV_CLUSTER: cluster,
        // 0.0.0.0 in a container is every address of that container: its own.
        DKV_BIND_HOST: loopback[name]!,
        // The volume's mount point becomes a temporary directory.
        DKV_DB_PATH: join(dir, name, relative(volume.target, env.DKV_DB_PATH!)),
      };
      envs.set(name, local);
    }
    // dkv1 and dkv2 run as an operator runs bin/dkv.js; dkv3 runs what the
    // image runs: the compiled entry point.
    for (const name of names) {
      const args = name === 'dkv3' ? ['--enable-source-maps', join(dist, `${imageEntry()}.js`)] : undefined;
      procs.set(name, spawnDkv(envs.get(name)!, args));
    }
  });

  after(async () => {
    for (const p of procs.values()) await stopProcess(p.proc, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    rmSync(dist, { recursive: true, force: true });
  });

  test('differ from the container environment only in host names, bind address and data path', () => {
    for (const name of names) {
      const changed = Object.keys(containerEnv(name)).filter(
        (k) => containerEnv(name)[k] !== envs.get(name)![k],
      );
      assert.deepEqual(changed.sort(), ['DKV_BIND_HOST', 'DKV_CLUSTER', 'DKV_DB_PATH'], name);
      assert.doesNotMatch(envs.get(name)!.DKV_CLUSTER!, /dkv\d:/);
    }
  });

  test('form a cluster: every node reports 3 members and the same leader', async () => {
    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      const sts = await Promise.all(
        names.map((n) =>
          rest(n, 'GET', '/v0/cluster/status').catch((e: Error) => ({
            status: 0,
            body: { error: e.message } as Record<string, unknown>,
          })),
        ),
      );
      last = JSON.stringify(sts.map((s) => s.body));
      const leaders = new Set(sts.map((s) => s.body.leaderId));
      const ok =
        sts.every((s) => s.status === 200 && (s.body.members as unknown[]).length === 3) &&
        leaders.size === 1 &&
        names.includes(String([...leaders][0]));
      if (ok) {
        const members = (sts[0]!.body.members as { id: string; address: string }[]).map((m) => m.id).sort();
        assert.deepEqual(members, names);
        assert.equal(sts.filter((s) => s.body.role === 'LEADER').length, 1);
        break;
      }
      assert.ok(Date.now() < deadline, `no agreed leader with 3 members: ${last}\n${describeAll()}`);
      await sleep(200);
    }
  });

  test('a put through dkv1 reads back through dkv2 and dkv3, and one through dkv3 through dkv1', async () => {
    const put = await rest('dkv1', 'POST', '/v0/kv', { key: b64('compose/a'), value: b64('from dkv1') });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    for (const reader of ['dkv2', 'dkv3']) {
      const got = await rest(reader, 'GET', `/v0/kv/key/${b64url('compose/a')}`);
      assert.equal(got.status, 200, `${reader}: ${JSON.stringify(got.body)}`);
      assert.equal(Buffer.from(String(got.body.value), 'base64').toString(), 'from dkv1');
    }
    const put3 = await rest('dkv3', 'POST', '/v0/kv', { key: b64('compose/b'), value: b64('from dkv3') });
    assert.equal(put3.status, 200, JSON.stringify(put3.body));
    const got = await rest('dkv1', 'GET', `/v0/kv/key/${b64url('compose/b')}`);
    assert.equal(Buffer.from(String(got.body.value), 'base64').toString(), 'from dkv3');
  });

  test('the image health probe passes once /readyz answers 200', async () => {
    for (const name of names) {
      const url = `http://${loopback[name]}:${loadConfig(envs.get(name)!).restPort}/readyz`;
      let status = (await fetch(url)).status;
      if (status === 404) {
        // A build without the /readyz route: the probe must not call it ready.
        const r = probe(name);
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, /not ready: .*\/readyz answered 404/);
        continue;
      }
      const deadline = Date.now() + 15_000;
      while (status !== 200 && Date.now() < deadline) {
        await sleep(200);
        status = (await fetch(url)).status;
      }
      assert.equal(status, 200, `${name}: /readyz stays ${status}\n${describeAll()}`);
      const r = probe(name);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /^ready: .*\/readyz answered 200/);
    }
  });

  test('stop cleanly on SIGTERM (docker stop), after which the probe reports them unreachable', async () => {
    for (const name of names) {
      const code = await stopProcess(procs.get(name)!.proc, 'SIGTERM');
      assert.equal(code, 0, `${name} exited ${code}\n${describeAll()}`);
    }
    const r = probe('dkv1');
    assert.equal(r.status, 1);
    assert.match(r.output, /unreachable: http:\/\/127\.0\.0\.11:7071\/readyz/);
  });
});
