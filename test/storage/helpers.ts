/**
 * Shared fixtures for the storage tests: stores in temporary directories and
 * entry builders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { type ConfChangeType, type Entry, EntryType, encodeConfChange } from '../../src/raft/index.js';
import { encodeRequest, type LmdbNodeStore, openNodeStore } from '../../src/storage/index.js';
import { SnapshotEncoder } from '../../src/storage/snapshot-codec.js';
import type { Command } from '../../src/storage/types.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test file ends. */
export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dkv-storage-'));
  dirs.push(d);
  return d;
}

/** A store in a fresh temporary directory (with the directory, to reopen it). */
export function tmpStore(): { store: LmdbNodeStore; dir: string } {
  const dir = tmpDir();
  return { store: openNodeStore(dir), dir };
}

/** A Normal entry carrying a client write. */
export function requestEntry(index: number, term: number, command: Command, id = `req-${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(encodeRequest({ id, command })) };
}

/** A put entry of string key and value. */
export function putEntry(index: number, term: number, key: string | Buffer, value: string | Buffer): Entry {
  return requestEntry(index, term, { op: 'put', key: Buffer.from(key), value: Buffer.from(value) });
}

/** The leader's empty no-op entry. */
export function noopEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}

/** A ConfChange entry. */
export function confEntry(
  index: number,
  term: number,
  type: ConfChangeType,
  nodeId: string,
  address = '',
): Entry {
  return {
    index,
    term,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type, nodeId, context: new TextEncoder().encode(address) }),
  };
}

/** Snapshot data with no keys or members, for tests that only care about the log. */
export function emptySnapshotData(index: number): Uint8Array {
  const enc = new SnapshotEncoder(index, 1 << 20);
  enc.finish();
  return Buffer.concat(enc.take());
}

/** Persist entries (no hard state, no snapshot). */
export function append(store: LmdbNodeStore, entries: Entry[]): Promise<void> {
  return store.persist({ hardState: null, entries, snapshot: null });
}

/** Persist entries and apply them. */
export async function appendAndApply(store: LmdbNodeStore, entries: Entry[]) {
  await append(store, entries);
  return store.apply(entries);
}
