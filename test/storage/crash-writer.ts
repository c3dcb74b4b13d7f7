/**
 * Child process of restart.test.ts: persists and applies batches of puts as
 * fast as it can, reporting progress, until the test kills it.
 */
import { type Entry, EntryType } from '../../src/raft/index.js';
import { encodeRequest, openNodeStore } from '../../src/storage/index.js';

function put(index: number): Entry {
  const command = { op: 'put' as const, key: Buffer.from(`k${index}`), value: Buffer.from(`value-${index}`) };
  return { index, term: 1, type: EntryType.Normal, data: encodeRequest({ id: `r${index}`, command }) };
}

const store = openNodeStore(process.argv[2]!);
let next = store.appliedIndex() + 1;
for (;;) {
  const batch = Array.from({ length: 50 }, (_, i) => put(next + i));
  await store.persist({ hardState: null, entries: batch, snapshot: null });
  // Apply without waiting, so a kill can land while an apply transaction is in flight.
  // It reports the batch's last index once the batch's applied state is committed (not the
  // in-memory applied index, which runs ahead of what LMDB holds).
  const last = batch[batch.length - 1]!.index;
  void store.apply(batch).then(() => process.stdout.write(`applied ${last}\n`));
  next += batch.length;
}
