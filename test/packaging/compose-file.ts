/**
 * Reading the packaging files as Docker does: docker-compose.yml (YAML with
 * merge keys) and the Dockerfile's instructions, so tests can check them and
 * start processes with the environment a container would get.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root. */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** One service of a compose file, in the parts the tests read. */
export interface ComposeService {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  restart?: string;
  stop_grace_period?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: number | string; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: { disable?: boolean; test?: string | string[] };
}

/** A compose file, in the parts the tests read. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Parse compose YAML; merge keys (`<<: *anchor`) are resolved as docker-compose does. */
export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

/** The repository's docker-compose.yml, parsed. */
export function readCompose(): ComposeFile {
  return parseCompose(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'));
}

/** A service's environment as strings, from either the map or the `KEY=value` list form. */
export function serviceEnv(s: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const item of s.environment) {
      const eq = item.indexOf('=');
      if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (v !== null) env[k] = String(v);
    }
  }
  return env;
}

/** A published port: host address (empty: every address), host port, container port. */
export interface PortMapping {
  hostIp: string;
  published: number;
  target: number;
}

/** A service's port mappings; short syntax `[ip:]host:container[/proto]` or long syntax. */
export function servicePorts(s: ComposeService): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip ?? '', published: Number(p.published), target: p.target };
    }
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop() ?? Number.NaN);
    return { hostIp: parts.join(':'), published, target };
  });
}

/** A volume mount: the named volume (or host path) and where it is mounted. */
export interface VolumeMount {
  source: string;
  target: string;
}

/** A service's volume mounts, short (`name:/path[:mode]`) or long syntax. */
export function serviceVolumes(s: ComposeService): VolumeMount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

/** A compose duration (`30s`, `1m30s`, `500ms`) in milliseconds; NaN when malformed. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  let rest = text.trim();
  if (rest === '') return Number.NaN;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|us|h|m|s)/.exec(rest);
    if (!m) return Number.NaN;
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile, without comments, in order. */
export function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const sp = full.search(/\s/);
    out.push({
      keyword: (sp < 0 ? full : full.slice(0, sp)).toUpperCase(),
      args: sp < 0 ? '' : full.slice(sp + 1).trim(),
    });
  }
  return out;
}

/** The instructions of the last build stage: what the image that runs is made of. */
export function finalStage(instructions: Instruction[]): Instruction[] {
  let from = 0;
  instructions.forEach((ins, i) => {
    if (ins.keyword === 'FROM') from = i;
  });
  return instructions.slice(from);
}

/** The repository's Dockerfile, final stage. */
export function readFinalStage(): Instruction[] {
  return finalStage(dockerfileInstructions(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')));
}

/** The ENV variables an image's final stage sets (`ENV K=V K2="V 2"` form). */
export function imageEnv(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.filter((i) => i.keyword === 'ENV')) {
    for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
      env[m[1]!] = m[3] ?? m[2]!;
    }
  }
  return env;
}

/** An exec-form argument list (`["a","b"]`) as an array; a shell form as ['/bin/sh','-c',text]. */
export function execForm(args: string): string[] {
  const text = args.trim();
  if (text.startsWith('[')) return JSON.parse(text) as string[];
  return ['/bin/sh', '-c', text];
}
