/**
 * Storage micro-benchmark: persist() (one transaction + flush each) for
 * batches of 1 and of 100 small entries, and apply() of the same. Prints
 * numbers, asserts nothing. Run: npx tsx scripts/bench-storage.ts [dir]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Entry, EntryType } from '../src/raft/index.js';
import { encodeRequest, openNodeStore } from '../src/storage/index.js';

const base = process.argv[2] ?? os.tmpdir();
const seconds = Number(process.env.BENCH_SECONDS ?? 2);

function put(index: number): Entry {
  const command = {
    op: 'put' as const,
    key: Buffer.from(`key-${index % 10_000}`),
    value: Buffer.alloc(100, 0x61),
  };
  return { index, term: 1, type: EntryType.Normal, data: encodeRequest({ id: `bench:${index}`, command }) };
}

async function bench(batchSize: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(base, 'dkv-bench-'));
  const store = openNodeStore(dir);
  try {
    let next = 1;
    let persists = 0;
    const persistStart = performance.now();
    while (performance.now() - persistStart < seconds * 1000) {
      const batch = Array.from({ length: batchSize }, (_, i) => put(next + i));
      await store.persist({
        hardState: { term: 1, vote: '', commit: next - 1 },
        entries: batch,
        snapshot: null,
      });
      next += batchSize;
      persists++;
    }
    const persistMs = performance.now() - persistStart;
    const entries = next - 1;
    let applied = 0;
    const applyStart = performance.now();
    while (applied < entries) {
      const hi = Math.min(entries, applied + batchSize);
      await store.apply(store.log.entries(applied + 1, hi + 1, Number.POSITIVE_INFINITY));
      applied = hi;
    }
    const applyMs = performance.now() - applyStart;
    console.log(
      `batch ${String(batchSize).padStart(3)}: persist ${(persists / (persistMs / 1000)).toFixed(0)} batches/s ` +
        `(${(entries / (persistMs / 1000)).toFixed(0)} entries/s, ${(persistMs / persists).toFixed(2)} ms each); ` +
        `apply ${(entries / (applyMs / 1000)).toFixed(0)} entries/s`,
    );
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`storage bench in ${base}, ${seconds}s per case, 100-byte values`);
await bench(1);
await bench(100);
