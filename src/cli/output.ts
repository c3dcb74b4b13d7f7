/**
 * How the CLI prints: `table` for people (aligned columns, plain values) or
 * `json` for scripts (one document per command, in grpc-gateway's JSON mapping:
 * lowerCamelCase, every field present, bytes as base64, 64-bit integers as
 * strings, enums by name).
 */
import { usageError } from './exit-codes.js';

/** The output formats of --output. */
export type OutputFormat = 'table' | 'json';

/** Parse --output. */
export function parseOutputFormat(text: string): OutputFormat {
  if (text !== 'table' && text !== 'json') throw usageError(`--output must be table or json, not "${text}"`);
  return text;
}

/** A message's generated toJSON, which ts-proto makes omit empty repeated fields. */
interface JsonFns<T> {
  toJSON(message: T): unknown;
}

/**
 * A message as grpc-gateway prints it: ts-proto's toJSON (which already emits
 * zero scalars) with the repeated fields it leaves out put back as [] and
 * unset message fields as null, as protojson's EmitUnpopulated does.
 */
export function gatewayJson<T>(
  fns: JsonFns<T>,
  message: T,
  defaults: Record<string, [] | null> = {},
): object {
  const out = fns.toJSON(message) as Record<string, unknown>;
  for (const [k, v] of Object.entries(defaults)) if (out[k] === undefined) out[k] = v;
  return out;
}

/** Where and how a command prints. */
export class Output {
  constructor(
    readonly format: OutputFormat,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** One line of text on stdout. */
  line(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  /** One JSON document on stdout, on one line. */
  json(doc: unknown): void {
    this.stdout.write(`${JSON.stringify(doc)}\n`);
  }

  /** A note for people on stderr (never mixed into what a script parses). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Rows under a header, columns padded to line up; the last column is not padded. */
  table(header: string[], rows: string[][]): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (r: string[]) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(fmt(header));
    for (const r of rows) this.line(fmt(r));
  }
}
