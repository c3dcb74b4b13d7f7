/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for the tests and the benchmark's scrapes of dkv's and etcd's /metrics: it rejects what a Prometheus server would reject or what breaks
 * the format's rules (HELP/TYPE placement, metric and label names, escapes,
 * values, duplicate series, families split apart), and checks each
 * histogram: cumulative buckets, a +Inf bucket equal to _count, a _sum.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its TYPE, HELP and samples in order. */
export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | null;
  samples: Sample[];
}

/** A parse failure naming the line. */
export class PromTextError extends Error {}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * The value of a sample as Prometheus reads it (Go's strconv.ParseFloat): a
 * decimal float, or Inf, Infinity and NaN in any letter case, signed or not.
 */
function parseValue(text: string, where: string): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new PromTextError(`${where}: bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The HELP text with its escapes (\\ and \n) resolved. */
function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new PromTextError(`${where}: bad escape \\${c} in HELP`);
  });
}

/** Parse `{a="x",b="y"}` starting at text[i] === '{'; returns the labels and the index after '}'. */
function parseLabels(
  text: string,
  i: number,
  where: string,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new PromTextError(`${where}: label without '='`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PromTextError(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new PromTextError(`${where}: label ${name} given twice`);
    if (text[eq + 1] !== '"') throw new PromTextError(`${where}: label ${name}'s value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new PromTextError(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new PromTextError(`${where}: bad escape \\${e ?? ''} in label ${name}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new PromTextError(`${where}: expected ',' or '}' after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return name;
}

/** A series key: the sample name and its labels, sorted. */
function seriesKey(name: string, labels: Record<string, string>, omit?: string): string {
  const parts = Object.keys(labels)
    .filter((k) => k !== omit)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

/** Check one histogram family's series. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  const group = (labels: Record<string, string>) => {
    const key = seriesKey(f.name, labels, 'le');
    let g = groups.get(key);
    if (!g) {
      g = { buckets: [] };
      groups.set(key, g);
    }
    return { g, key };
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new PromTextError(`${f.name}: a bucket without le`);
      const { g } = group(s.labels);
      g.buckets.push([parseValue(s.labels.le, `${f.name} le`), s.value]);
    } else if (s.name === `${f.name}_sum`) group(s.labels).g.sum = s.value;
    else if (s.name === `${f.name}_count`) group(s.labels).g.count = s.value;
    else throw new PromTextError(`histogram ${f.name} has a sample named ${s.name}`);
  }
  for (const [key, g] of groups) {
    if (g.sum === undefined) throw new PromTextError(`${key}: histogram without _sum`);
    if (g.count === undefined) throw new PromTextError(`${key}: histogram without _count`);
    if (g.buckets.length === 0) throw new PromTextError(`${key}: histogram without buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevCount] = g.buckets[i - 1]!;
      const [le, count] = g.buckets[i]!;
      if (!(le > prevLe)) throw new PromTextError(`${key}: bucket bounds not increasing at le=${le}`);
      if (count < prevCount) throw new PromTextError(`${key}: bucket counts not cumulative at le=${le}`);
    }
    const last = g.buckets[g.buckets.length - 1]!;
    if (last[0] !== Number.POSITIVE_INFINITY) throw new PromTextError(`${key}: no le="+Inf" bucket`);
    if (last[1] !== g.count) {
      throw new PromTextError(`${key}: +Inf bucket ${last[1]} differs from _count ${g.count}`);
    }
    // Every histogram here measures durations, which cannot sum below zero.
    if (g.sum < 0) throw new PromTextError(`${key}: negative _sum ${g.sum}`);
  }
}

/** Parse a whole exposition; throws PromTextError naming the first problem. */
export function parsePromText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new PromTextError('the last line does not end with \\n');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  lines.pop();
  const declare = (name: string, where: string): Family => {
    let f = families.get(name);
    if (!f) {
      if (closed.has(name)) throw new PromTextError(`${where}: family ${name} appears again after others`);
      f = { name, type: 'untyped', help: null, samples: [] };
      families.set(name, f);
    } else if (current !== f) {
      throw new PromTextError(`${where}: family ${name} appears again after others`);
    }
    if (current && current !== f) closed.add(current.name);
    current = f;
    return f;
  };
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new PromTextError(`${where}: bad metric name ${name}`);
      const f = declare(name!, where);
      if (kind === 'HELP') {
        if (f.help !== null) throw new PromTextError(`${where}: second HELP for ${name}`);
        f.help = unescapeHelp(rest, where);
      } else {
        if (f.samples.length > 0) throw new PromTextError(`${where}: TYPE of ${name} after its samples`);
        if (!TYPES.has(rest.trim()))
          throw new PromTextError(`${where}: unknown type ${JSON.stringify(rest)}`);
        f.type = rest.trim() as Family['type'];
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new PromTextError(`${where}: not a sample: ${JSON.stringify(line)}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new PromTextError(`${where}: bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    const rest = line.slice(i).trim().split(/\s+/);
    if (line[i] !== ' ' || rest.length < 1 || rest.length > 2 || rest[0] === '') {
      throw new PromTextError(`${where}: expected ' value [timestamp]' after ${name}`);
    }
    const value = parseValue(rest[0]!, where);
    if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) {
      throw new PromTextError(`${where}: bad timestamp ${rest[1]}`);
    }
    const f = declare(familyOf(name, families), where);
    if (f.type === 'counter' && !(value >= 0))
      throw new PromTextError(`${where}: counter ${name} is ${value}`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new PromTextError(`${where}: duplicate series ${key}`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The samples named `name` whose labels include `match`. */
export function samples(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): Sample[] {
  const f = families.get(familyOf(name, families));
  if (!f) return [];
  return f.samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
}

/** The sum of the values of the samples named `name` whose labels include `match` (0 if none). */
export function total(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): number {
  return samples(families, name, match).reduce((sum, s) => sum + s.value, 0);
}

/** The value of exactly one sample; throws if there is none or several. */
export function value(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): number {
  const found = samples(families, name, match);
  if (found.length !== 1) {
    throw new Error(`expected one sample ${name}${JSON.stringify(match)}, found ${found.length}`);
  }
  return found[0]!.value;
}
