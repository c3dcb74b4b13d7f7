/**
 * What survives a restart: everything persist() and apply() returned for,
 * and the applied index always together with the KV changes it reflects,
 * also when the process is killed mid-write.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bootstrapLog, ConfChangeType } from '../../src/raft/index.js';
import { openNodeStore } from '../../src/storage/index.js';
import { append, appendAndApply, confEntry, putEntry, tmpDir } from './helpers.js';

describe('restart', () => {
  test('close and reopen: hard state, log, compaction point, applied index, membership and KV are all there', async () => {
    const dir = tmpDir();
    const store = openNodeStore(dir);
    const boot = bootstrapLog(['a', 'b', 'c']);
    await store.persist({ hardState: boot.hardState, entries: boot.entries, snapshot: null });
    await store.apply(boot.entries);
    const more = [
      confEntry(4, 2, ConfChangeType.AddLearner, 'd', '127.0.0.1:9999'),
      putEntry(5, 2, 'x', 'one'),
      putEntry(6, 2, 'y', 'two'),
      putEntry(7, 2, 'x', 'three'),
    ];
    await appendAndApply(store, more);
    await append(store, [putEntry(8, 3, 'z', 'unapplied')]);
    await store.persist({ hardState: { term: 3, vote: 'b', commit: 7 }, entries: [], snapshot: null });
    await store.compact(5);
    const before = {
      initial: store.log.initialState(),
      first: store.log.firstIndex(),
      last: store.log.lastIndex(),
      entries: store.log.entries(6, 9, Infinity),
      term5: store.log.term(5),
      snapshot: store.log.snapshot().meta,
      applied: store.appliedIndex(),
      conf: store.confState(),
      members: store.memberAddresses(),
      kv: store.range(Buffer.alloc(0), null, 100),
    };
    await store.close();

    const reopened = openNodeStore(dir);
    assert.deepEqual(
      {
        initial: reopened.log.initialState(),
        first: reopened.log.firstIndex(),
        last: reopened.log.lastIndex(),
        entries: reopened.log.entries(6, 9, Infinity),
        term5: reopened.log.term(5),
        snapshot: reopened.log.snapshot().meta,
        applied: reopened.appliedIndex(),
        conf: reopened.confState(),
        members: reopened.memberAddresses(),
        kv: reopened.range(Buffer.alloc(0), null, 100),
      },
      before,
    );
    // Spot-check the values themselves, not just equality with before.
    assert.deepEqual(before.initial, {
      hardState: { term: 3, vote: 'b', commit: 7 },
      confState: { voters: ['a', 'b', 'c'], learners: ['d'] },
    });
    assert.equal(before.first, 6);
    assert.equal(before.last, 8);
    assert.equal(before.applied, 7);
    assert.deepEqual(reopened.get(Buffer.from('x')), { value: Buffer.from('three'), modRevision: 7 });
    assert.equal(reopened.get(Buffer.from('z')), null);
    await reopened.close();
  });

  test('a store is usable after close/reopen cycles, and a closed store refuses calls', async () => {
    const dir = tmpDir();
    for (let i = 1; i <= 3; i++) {
      const s = openNodeStore(dir);
      assert.equal(s.appliedIndex(), i - 1);
      await appendAndApply(s, [putEntry(i, 1, `k${i}`, `v${i}`)]);
      await s.close();
      assert.throws(() => s.appliedIndex(), /storage is closed/);
      await assert.rejects(
        s.persist({ hardState: null, entries: [putEntry(9, 1, 'a', 'b')], snapshot: null }),
      );
    }
  });

  test('killed mid-apply (SIGKILL): after reopening, the applied index matches the KV data exactly', async () => {
    const dir = tmpDir();
    // The child applies batches of 50 puts (key k<i> = i) in a tight loop until killed.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./crash-writer.ts', import.meta.url)), dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Let it run a few batches past the first report, then kill it without warning.
        if (/applied \d{3,}/.test(out)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`crash writer exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const store = openNodeStore(dir);
    try {
      const applied = store.appliedIndex();
      assert.ok(applied >= 100, `applied ${applied}`);
      assert.ok(store.log.lastIndex() >= applied, 'applied entries are in the log');
      const kvs = store.range(Buffer.from('k'), null, 1_000_000).kvs;
      assert.equal(kvs.length, applied, 'one key per applied entry, none beyond');
      for (const { key, value } of kvs) {
        const i = Number(key.subarray(1).toString());
        assert.ok(i >= 1 && i <= applied, `key ${key} is beyond applied ${applied}`);
        assert.equal(value.modRevision, i);
      }
    } finally {
      await store.close();
    }
  });
});
