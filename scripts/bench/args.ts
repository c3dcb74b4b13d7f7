/**
 * Command-line flag helpers for the benchmark scripts, on top of
 * node:util parseArgs: numbers and comma-separated lists with validation
 * that names the flag.
 */

/** `value` as a positive number, or `fallback` when the flag is absent. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${value}"`);
  return n;
}

/** `value` as a number of at least 0, or `fallback` when the flag is absent (0 turns a phase off). */
export function nonNegativeFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name}: expected a number of 0 or more, got "${value}"`);
  return n;
}

/** `value` as an optional positive number. */
export function optionalNumberFlag(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : numberFlag(name, value, 0);
}

/** `value` as a comma-separated list of positive integers. */
export function intListFlag(name: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  return value.split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: "${v}" is not a positive integer`);
    return n;
  });
}

/** `value` as a comma-separated list of names from `allowed`. */
export function choiceListFlag<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T[],
): T[] {
  if (value === undefined) return fallback;
  return value.split(',').map((v) => choiceFlag(name, v.trim(), allowed, fallback[0]!));
}

/** `value` as one name from `allowed`. */
export function choiceFlag<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${name}: "${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}
