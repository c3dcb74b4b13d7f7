/**
 * The shell's history file: one command per line, oldest first, the last
 * HISTORY_SIZE kept; private to its owner (mode 0600) since it holds data.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** How many commands the history keeps. */
export const HISTORY_SIZE = 1000;

/** The saved commands, oldest first; none if the file does not exist or cannot be read. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Save the commands (oldest first); a failure is reported, never fatal: the commands ran. */
export function saveHistory(file: string, entries: string[]): string | null {
  try {
    writeFileSync(file, `${entries.slice(-HISTORY_SIZE).join('\n')}\n`, { mode: 0o600 });
    return null;
  } catch (e) {
    return `cannot save history to ${file}: ${(e as Error).message}`;
  }
}
