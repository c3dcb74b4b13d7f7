/**
 * Output of the benchmark scripts: number formatting, markdown tables,
 * medians, and the result files (JSON, markdown, SVG) under the output
 * directory, named after the run's start time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A markdown table; numeric-looking columns are right-aligned. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-\d.,/ x%×]*$/.test(r[i] ?? '')),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Milliseconds with 2 decimals below 10, 1 below 100, none above. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

/** A throughput, rounded to a whole request per second. */
export function fmtRate(perSec: number): string {
  return Number.isFinite(perSec) ? Math.round(perSec).toString() : '-';
}

/** A ratio with 2 decimals and a trailing `x`. */
export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : '-';
}

/** Numbers joined by `/` with no decimals (per-node CPU or RSS). */
export function fmtPerNode(values: number[]): string {
  return values.map((v) => (Number.isFinite(v) ? v.toFixed(0) : '-')).join('/');
}

/** Milliseconds per node joined by `/` (durable write times, leader first). */
export function fmtMsPerNode(values: number[]): string {
  return values.map(fmtMs).join('/');
}

/** Block write requests and flushes per client request, as `writes/flushes`. */
export function fmtDiskPerRequest(disk: { writes: number; flushes: number }): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : '-');
  return `${f(disk.writes)}/${f(disk.flushes)}`;
}

/** The machine's stolen and idle CPU time as `steal/idle` percent, to a tenth below 10. */
export function fmtMachine(m: { stealPercent: number; idlePercent: number }): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : '-');
  return `${f(m.stealPercent)}/${f(m.idlePercent)}`;
}

/** CPU per request as `user/sys` microseconds (their sum is the total). */
export function fmtCpuPerRequest(cpu: { userUs: number; systemUs: number }): string {
  return fmtPerNode([cpu.userUs, cpu.systemUs]);
}

/** Errors as `total` or `total (kind n, ...)`. */
export function fmtErrors(errors: Record<string, number>): string {
  const kinds = Object.entries(errors);
  if (kinds.length === 0) return '0';
  const total = kinds.reduce((s, [, n]) => s + n, 0);
  return `${total} (${kinds.map(([k, n]) => `${k} ${n}`).join(', ')})`;
}

/**
 * A lost-write check as `lost of acked (keys judged)`, with the unexplained keys if any, or why
 * it failed.
 */
export function fmtLost(c: {
  lost: number;
  acked: number;
  keys: number;
  unexplained: number;
  failed: string | null;
}): string {
  if (c.failed !== null) return `not checked (${c.failed})`;
  const unexplained = c.unexplained > 0 ? `, ${c.unexplained} unexplained` : '';
  return `${c.lost} of ${c.acked} (${c.keys} keys${unexplained})`;
}

/** The median of `values` (NaN when empty). */
export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** A file stem for this run: `<prefix>-YYYYMMDD-HHMMSS`. */
export function runStem(prefix: string, at = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}`;
  return `${prefix}-${d}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
}

/** Write `<dir>/<stem>.<ext>` for each entry of `files`; returns the paths written. */
export function writeResults(dir: string, stem: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([ext, content]) => {
    const path = join(dir, `${stem}.${ext}`);
    writeFileSync(path, content.endsWith('\n') ? content : `${content}\n`);
    return path;
  });
}
