/**
 * The consensus core is pure (DESIGN.md §1): nothing in src/raft performs
 * I/O, reads a clock, draws global randomness or schedules timers, so one
 * seed replays a whole cluster's history. This test reads every source file
 * and rejects side-effecting imports and calls.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RAFT_DIR = fileURLToPath(new URL('../../src/raft/', import.meta.url));

/** Node built-ins the core must not import (bare or `node:`-prefixed, with or without a subpath). */
const FORBIDDEN_BUILTINS = [
  'fs',
  'net',
  'http',
  'http2',
  'https',
  'dgram',
  'child_process',
  'worker_threads',
  'timers',
  'crypto',
  'os',
  'process',
  'cluster',
  'tls',
];

/** Packages with side effects the core must not import. */
const FORBIDDEN_PACKAGES = ['lmdb', 'express', '@grpc/grpc-js', 'pino'];

/** Clock, randomness, timers and process access, as regexes over comment- and string-free code. */
const FORBIDDEN_CALLS: Array<[string, RegExp]> = [
  ['Date.now(', /\bDate\s*\.\s*now\s*\(/],
  ['new Date(', /\bnew\s+Date\s*\(/],
  ['Math.random(', /\bMath\s*\.\s*random\s*\(/],
  ['setTimeout(', /(?<![\w$])setTimeout\s*\(/],
  ['setInterval(', /(?<![\w$])setInterval\s*\(/],
  ['setImmediate(', /(?<![\w$])setImmediate\s*\(/],
  ['performance.now(', /(?<![\w$])performance\s*\.\s*now\s*\(/],
  ['process.', /(?<![\w$])process\s*\./],
];

/**
 * Split TypeScript source into code with comments removed and each quoted
 * string replaced by a placeholder `'#n'` (its text is `strings[n]`), so
 * neither comments nor string contents can look like code. Template literals
 * keep their `${...}` expressions as code.
 */
export function lex(src: string): { code: string; strings: string[] } {
  let code = '';
  const strings: string[] = [];
  // A stack of open template literals: brace depth inside each `${`.
  const templates: number[] = [];
  let i = 0;
  const readQuoted = (quote: string): string => {
    let s = '';
    i++;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === '\\') {
        s += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (src[i] === '\n') break;
      s += src[i];
      i++;
    }
    i++;
    return s;
  };
  const readTemplateChunk = (): void => {
    // i is just past a backtick or a closing `}` of an expression.
    let s = '';
    while (i < src.length) {
      const ch = src[i]!;
      if (ch === '\\') {
        s += src[i + 1] ?? '';
        i += 2;
      } else if (ch === '`') {
        i++;
        strings.push(s);
        code += '``';
        return;
      } else if (ch === '$' && src[i + 1] === '{') {
        i += 2;
        strings.push(s);
        code += '`${';
        templates.push(0);
        return;
      } else {
        s += ch;
        i++;
      }
    }
  };
  while (i < src.length) {
    const ch = src[i]!;
    const next = src[i + 1];
    if (ch === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      code += ' ';
    } else if (ch === "'" || ch === '"') {
      strings.push(readQuoted(ch));
      code += `'#${strings.length - 1}'`;
    } else if (ch === '`') {
      i++;
      readTemplateChunk();
    } else if (templates.length > 0 && ch === '{') {
      templates[templates.length - 1]!++;
      code += ch;
      i++;
    } else if (templates.length > 0 && ch === '}') {
      if (templates[templates.length - 1] === 0) {
        templates.pop();
        code += '}`';
        i++;
        readTemplateChunk();
      } else {
        templates[templates.length - 1]!--;
        code += ch;
        i++;
      }
    } else {
      code += ch;
      i++;
    }
  }
  return { code, strings };
}

/** Module specifiers imported or required by a source file (comments and other strings ignored). */
export function importsOf(src: string): string[] {
  const { code, strings } = lex(src);
  const specs: string[] = [];
  const patterns = [
    /\bfrom\s*'#(\d+)'/g,
    /\bimport\s*'#(\d+)'/g,
    /\bimport\s*\(\s*'#(\d+)'\s*\)/g,
    /\brequire\s*\(\s*'#(\d+)'\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(strings[Number(m[1])]!);
  return specs;
}

/** Every purity violation in one source file, as human-readable strings. */
export function purityViolations(src: string): string[] {
  const out: string[] = [];
  for (const spec of importsOf(src)) {
    const root = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (spec.startsWith('node:')) out.push(`imports ${spec}`);
    else if (FORBIDDEN_BUILTINS.includes(root)) out.push(`imports built-in ${spec}`);
    else if (FORBIDDEN_PACKAGES.includes(root)) out.push(`imports ${spec}`);
  }
  const { code } = lex(src);
  for (const [name, re] of FORBIDDEN_CALLS) if (re.test(code)) out.push(`uses ${name}`);
  return out;
}

describe('DESIGN §1: src/raft is a pure, deterministic state machine', () => {
  const files = readdirSync(RAFT_DIR).filter((f) => f.endsWith('.ts'));

  test('src/raft has the core files', () => {
    for (const f of ['raft.ts', 'raw-node.ts', 'step-leader.ts', 'index.ts']) assert.ok(files.includes(f), f);
  });

  for (const f of files) {
    test(`src/raft/${f} imports nothing with side effects and reads no clock, randomness or process`, () => {
      const src = readFileSync(join(RAFT_DIR, f), 'utf8');
      assert.deepEqual(purityViolations(src), []);
      for (const spec of importsOf(src))
        assert.ok(spec.startsWith('./'), `${f} imports ${spec} from outside src/raft`);
    });
  }

  test('the checker catches violations (and ignores them in comments and strings)', () => {
    const bad = [
      "import fs from 'node:fs';",
      "import { createHash } from 'crypto';",
      "const lm = require('lmdb');",
      "import('@grpc/grpc-js');",
      'export const t = Date.now();',
      'const r = Math.random() + performance.now();',
      'setTimeout(() => {}, 1); const e = process.env.X;',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: this is source text for the checker
      'const x = `${new Date()}`;',
    ].join('\n');
    const v = purityViolations(bad);
    for (const expected of [
      'imports node:fs',
      'imports built-in crypto',
      'imports lmdb',
      'imports @grpc/grpc-js',
      'uses Date.now(',
      'uses Math.random(',
      'uses performance.now(',
      'uses setTimeout(',
      'uses process.',
      'uses new Date(',
    ]) {
      assert.ok(v.includes(expected), `missed "${expected}" (got ${JSON.stringify(v)})`);
    }
    assert.deepEqual(purityViolations("import fs from 'node:fs';\nDate.now();"), [
      'imports node:fs',
      'uses Date.now(',
    ]);
    const innocent = [
      '// Date.now() is never called; we use ticks. Math.random() neither.',
      '/* setTimeout(x) in a comment */',
      "const msg = 'process.exit is not called, nor Date.now()'; const why = 'not from';",
      "const s = 'a from \\'node:fs\\'';",
      "import { Prng } from './prng.js';",
      'const dateNow = obj.Date_now(); const myprocess = 1;',
    ].join('\n');
    assert.deepEqual(purityViolations(innocent), []);
  });
});
