import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkLinearizable, type HistoryOp, type KvOp } from './linearizability.js';

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

const INDET = Infinity;

/** Small builder: ops get sequential ids in the order they are added. */
function history(): {
  add: (client: number, op: KvOp, call: number, ret: number) => HistoryOp;
  ops: HistoryOp[];
} {
  const ops: HistoryOp[] = [];
  return {
    ops,
    add(client, op, call, ret) {
      const h: HistoryOp = { id: ops.length, client, op, call, ret };
      ops.push(h);
      return h;
    },
  };
}

const put = (key: string, value: string): KvOp => ({ kind: 'put', key, value });
const get = (key: string, result: string | undefined): KvOp => ({ kind: 'get', key, result });
const del = (key: string): KvOp => ({ kind: 'delete', key });
const cas = (key: string, expected: string | undefined, value: string, swapped?: boolean): KvOp =>
  swapped === undefined
    ? { kind: 'cas', key, expected, value }
    : { kind: 'cas', key, expected, value, swapped };

function assertOk(ops: HistoryOp[]): void {
  const r = checkLinearizable(ops);
  assert.equal(r.ok, true, `expected linearizable, got: ${r.explanation}`);
  assert.equal(r.timedOut, undefined);
}

function assertNotOk(ops: HistoryOp[], key: string): void {
  const r = checkLinearizable(ops);
  assert.equal(r.ok, false, 'expected a linearizability violation');
  assert.equal(r.timedOut, undefined);
  assert.equal(r.key, key);
  assert.ok(r.explanation?.includes(JSON.stringify(key)), `explanation names the key: ${r.explanation}`);
}

/** mulberry32: tiny deterministic PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimOptions {
  keys: string[];
  clients: number;
  opsPerClient: number;
  values: string[];
  /** probability that an op's outcome is never learned by the client */
  indetProb: number;
  /** integer timestamps (exercise equal-time call/return ties) instead of floats */
  integerTimes: boolean;
}

/**
 * Simulates a real atomic register per key: every op that takes effect gets a linearization point inside its
 * [call, ret] interval and outputs are derived by applying ops in linearization-point order, so the
 * resulting history is linearizable by construction.
 */
function simulate(seed: number, o: SimOptions): HistoryOp[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const time = (scale: number): number => (o.integerTimes ? Math.floor(rnd() * (scale + 1)) : rnd() * scale);
  const ops: HistoryOp[] = [];
  const effects: { lin: number; h: HistoryOp }[] = [];
  for (let c = 0; c < o.clients; c++) {
    let t = time(5);
    for (let k = 0; k < o.opsPerClient; k++) {
      const key = pick(o.keys);
      const r = rnd();
      const op: KvOp =
        r < 0.3
          ? put(key, pick(o.values))
          : r < 0.65
            ? get(key, 'placeholder')
            : r < 0.85
              ? cas(key, rnd() < 0.3 ? undefined : pick(o.values), pick(o.values), false)
              : del(key);
      const call = t + time(4);
      const h: HistoryOp = { id: ops.length, client: c, op, call, ret: 0 };
      ops.push(h);
      if (rnd() < o.indetProb) {
        h.ret = INDET;
        // Outcome unknown: it may take effect at any later time (even after this client's next ops) or never.
        if (op.kind === 'get') op.result = 'garbage-the-client-never-saw';
        else if (rnd() < 0.5) effects.push({ lin: call + time(60), h });
        t = call + 10; // client times out and moves on
      } else {
        const lin = call + time(8);
        h.ret = lin + time(8);
        effects.push({ lin, h });
        t = h.ret;
      }
    }
  }
  effects.sort((a, b) => a.lin - b.lin);
  const store = new Map<string, string>();
  for (const { h } of effects) {
    const op = h.op;
    const cur = store.get(op.key);
    switch (op.kind) {
      case 'put':
        store.set(op.key, op.value);
        break;
      case 'delete':
        store.delete(op.key);
        break;
      case 'get':
        op.result = cur;
        break;
      case 'cas':
        op.swapped = cur === op.expected;
        if (op.swapped) store.set(op.key, op.value);
        break;
    }
  }
  return ops;
}

/**
 * Reference oracle: exhaustive search over all orders that respect real time (tiny histories only).
 * Indeterminate ops are optional; indeterminate gets are ignored.
 */
function bruteForceLinearizable(ops: HistoryOp[]): boolean {
  const byKey = new Map<string, HistoryOp[]>();
  for (const h of ops) {
    if (h.op.kind === 'get' && h.ret === INDET) continue;
    byKey.set(h.op.key, [...(byKey.get(h.op.key) ?? []), h]);
  }
  for (const sub of byKey.values()) {
    const placed = new Set<HistoryOp>();
    const search = (state: string | undefined): boolean => {
      if (sub.every((h) => h.ret === INDET || placed.has(h))) return true;
      for (const h of sub) {
        if (placed.has(h)) continue;
        if (sub.some((p) => !placed.has(p) && p.ret < h.call)) continue; // a real-time predecessor is pending
        const op = h.op;
        let next: string | undefined = state;
        let legal = true;
        if (op.kind === 'put') next = op.value;
        else if (op.kind === 'delete') next = undefined;
        else if (op.kind === 'get') legal = op.result === state;
        else {
          const match = state === op.expected;
          if (h.ret !== INDET && op.swapped !== undefined && op.swapped !== match) legal = false;
          if (match) next = op.value;
        }
        if (!legal) continue;
        placed.add(h);
        const found = search(next);
        placed.delete(h);
        if (found) return true;
      }
      return false;
    };
    if (!search(undefined)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

describe('checkLinearizable', () => {
  test('1. empty history is ok; sequential put+get of that value ok; stale read is reported with its key', () => {
    assertOk([]);

    const a = history();
    a.add(1, put('x', '1'), 0, 1);
    a.add(1, get('x', '1'), 2, 3);
    assertOk(a.ops);

    const b = history();
    b.add(1, put('x', '1'), 0, 1);
    b.add(1, put('x', '2'), 2, 3);
    b.add(2, get('x', '1'), 4, 5);
    assertNotOk(b.ops, 'x');
    const r = checkLinearizable(b.ops);
    // The explanation lists the key's ops, one per line, sorted by call time.
    const lines = r.explanation!.split('\n').filter((l) => l.startsWith('  #'));
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /#0 client 1 \[0, 1\] put "1"/);
    assert.match(lines[2]!, /#2 client 2 \[4, 5\] get -> "1"/);

    const c = history();
    c.add(1, get('x', '1'), 0, 1); // reads a value before anything was written
    c.add(1, put('x', '1'), 2, 3);
    assertNotOk(c.ops, 'x');
  });

  test('2. a get concurrent with a put may see the old or the new value (but nothing else)', () => {
    for (const seen of ['old', 'new'] as const) {
      const h = history();
      h.add(1, put('x', 'old'), 0, 1);
      h.add(1, put('x', 'new'), 2, 10);
      h.add(2, get('x', seen), 3, 5);
      assertOk(h.ops);
    }
    const bad = history();
    bad.add(1, put('x', 'old'), 0, 1);
    bad.add(1, put('x', 'new'), 2, 10);
    bad.add(2, get('x', 'other'), 3, 5);
    assertNotOk(bad.ops, 'x');
  });

  test('2b. memoization distinguishes register states reached with the same set of linearized ops', () => {
    // Concurrent puts: the search first tries a-then-b (state b) and fails the read; it must still try
    // b-then-a, which linearizes the same set of ops but ends in state a.
    for (const seen of ['a', 'b']) {
      const h = history();
      h.add(1, put('x', 'a'), 0, 10);
      h.add(2, put('x', 'b'), 0, 10);
      h.add(3, get('x', seen), 11, 12);
      h.add(3, get('x', seen), 13, 14);
      assertOk(h.ops);
    }
    const h = history();
    h.add(1, put('x', 'a'), 0, 10);
    h.add(2, put('x', 'b'), 0, 10);
    h.add(3, get('x', 'a'), 11, 12);
    h.add(3, get('x', 'b'), 13, 14);
    assertNotOk(h.ops, 'x');
  });

  test('3. classic violation: a read after two completed puts returns the first value', () => {
    const h = history();
    h.add(1, put('x', '1'), 0, 1);
    h.add(2, put('x', '2'), 2, 3);
    h.add(3, get('x', '1'), 4, 5);
    assertNotOk(h.ops, 'x');
  });

  test('4. new-old inversion across two sequential gets overlapping one put is rejected', () => {
    const h = history();
    h.add(1, put('x', 'old'), 0, 1);
    h.add(1, put('x', 'new'), 2, 20);
    h.add(2, get('x', 'new'), 3, 5);
    h.add(3, get('x', 'old'), 6, 8); // starts after the first get returned
    assertNotOk(h.ops, 'x');

    // Control: old-then-new is fine, and so is new-old when the gets overlap each other.
    const ok1 = history();
    ok1.add(1, put('x', 'old'), 0, 1);
    ok1.add(1, put('x', 'new'), 2, 20);
    ok1.add(2, get('x', 'old'), 3, 5);
    ok1.add(3, get('x', 'new'), 6, 8);
    assertOk(ok1.ops);
    const ok2 = history();
    ok2.add(1, put('x', 'old'), 0, 1);
    ok2.add(1, put('x', 'new'), 2, 20);
    ok2.add(2, get('x', 'new'), 3, 7);
    ok2.add(3, get('x', 'old'), 6, 8);
    assertOk(ok2.ops);
  });

  test('5. indeterminate put may or may not take effect; unwritten values are still rejected', () => {
    const read = history();
    read.add(1, put('x', 'a'), 0, 1);
    read.add(1, put('x', 'v'), 2, INDET);
    read.add(2, get('x', 'v'), 10, 12);
    assertOk(read.ops);

    const neverRead = history();
    neverRead.add(1, put('x', 'a'), 0, 1);
    neverRead.add(1, put('x', 'v'), 2, INDET);
    neverRead.add(2, get('x', 'a'), 10, 12);
    neverRead.add(2, get('x', 'a'), 13, 14);
    assertOk(neverRead.ops);

    const unwritten = history();
    unwritten.add(1, put('x', 'a'), 0, 1);
    unwritten.add(1, put('x', 'v'), 2, INDET);
    unwritten.add(2, get('x', 'zzz'), 10, 12);
    assertNotOk(unwritten.ops, 'x');

    // Once it has taken effect it cannot be undone: v, then a again (with no writer of a afterwards) fails.
    const flicker = history();
    flicker.add(1, put('x', 'a'), 0, 1);
    flicker.add(1, put('x', 'v'), 2, INDET);
    flicker.add(2, get('x', 'v'), 10, 12);
    flicker.add(2, get('x', 'a'), 13, 14);
    assertNotOk(flicker.ops, 'x');

    // Indeterminate gets constrain nothing, whatever "result" they carry.
    const indetGet = history();
    indetGet.add(1, put('x', 'a'), 0, 1);
    indetGet.add(2, get('x', 'never-written'), 2, INDET);
    assertOk(indetGet.ops);

    // A history made only of indeterminate ops is trivially ok.
    const onlyIndet = history();
    onlyIndet.add(1, put('x', 'a'), 0, INDET);
    onlyIndet.add(2, cas('x', 'b', 'c'), 1, INDET);
    assertOk(onlyIndet.ops);
  });

  test('6. an indeterminate put cannot take effect before its call (ties count as concurrent)', () => {
    const h = history();
    h.add(2, get('x', 'v'), 0, 2);
    h.add(1, put('x', 'v'), 3, INDET);
    assertNotOk(h.ops, 'x');

    // Boundary: get.ret === put.call is concurrent, so the put may be linearized first.
    const tie = history();
    tie.add(2, get('x', 'v'), 0, 3);
    tie.add(1, put('x', 'v'), 3, INDET);
    assertOk(tie.ops);

    // Same tie rule for completed ops: put [0,5] and get [5,6] are concurrent, get [6,7] is after.
    const tie2 = history();
    tie2.add(1, put('x', 'v'), 0, 5);
    tie2.add(2, get('x', undefined), 5, 6);
    assertOk(tie2.ops);
    const after = history();
    after.add(1, put('x', 'v'), 0, 5);
    after.add(2, get('x', undefined), 6, 7);
    assertNotOk(after.ops, 'x');
  });

  test('7. cas semantics: swapped iff current === expected; expected undefined = create-if-absent', () => {
    const good = history();
    good.add(1, put('x', 'a'), 0, 1);
    good.add(1, cas('x', 'a', 'b', true), 2, 3);
    good.add(2, get('x', 'b'), 4, 5);
    assertOk(good.ops);

    const wrongValue = history(); // register held "c" for the cas's entire interval
    wrongValue.add(1, put('x', 'a'), 0, 1);
    wrongValue.add(1, put('x', 'c'), 2, 3);
    wrongValue.add(2, cas('x', 'a', 'b', true), 4, 5);
    assertNotOk(wrongValue.ops, 'x');

    const falseFailure = history(); // expected value was there the whole time, yet it reported no swap
    falseFailure.add(1, put('x', 'a'), 0, 1);
    falseFailure.add(2, cas('x', 'a', 'b', false), 2, 3);
    assertNotOk(falseFailure.ops, 'x');

    const failedCasNoEffect = history();
    failedCasNoEffect.add(1, put('x', 'a'), 0, 1);
    failedCasNoEffect.add(2, cas('x', 'z', 'b', false), 2, 3);
    failedCasNoEffect.add(2, get('x', 'a'), 4, 5);
    assertOk(failedCasNoEffect.ops);

    const create = history();
    create.add(1, cas('x', undefined, 'a', true), 0, 1);
    create.add(2, cas('x', undefined, 'b', false), 2, 3);
    create.add(2, get('x', 'a'), 4, 5);
    assertOk(create.ops);

    const doubleCreate = history();
    doubleCreate.add(1, cas('x', undefined, 'a', true), 0, 1);
    doubleCreate.add(2, cas('x', undefined, 'b', true), 2, 3);
    assertNotOk(doubleCreate.ops, 'x');

    const createOnEmptyFails = history();
    createOnEmptyFails.add(1, cas('x', undefined, 'a', false), 0, 1);
    assertNotOk(createOnEmptyFails.ops, 'x');

    const recreateAfterDelete = history();
    recreateAfterDelete.add(1, put('x', 'a'), 0, 1);
    recreateAfterDelete.add(1, del('x'), 2, 3);
    recreateAfterDelete.add(2, cas('x', undefined, 'b', true), 4, 5);
    assertOk(recreateAfterDelete.ops);

    // An indeterminate cas may take effect (per its semantics) or not; either explains these reads.
    for (const seen of ['a', 'b']) {
      const ind = history();
      ind.add(1, put('x', 'a'), 0, 1);
      ind.add(1, cas('x', 'a', 'b', false), 2, INDET); // output of an indeterminate op is ignored
      ind.add(2, get('x', seen), 5, 6);
      assertOk(ind.ops);
    }
    const indWrong = history(); // the cas cannot produce "b" since the register held "c"
    indWrong.add(1, put('x', 'c'), 0, 1);
    indWrong.add(1, cas('x', 'a', 'b'), 2, INDET);
    indWrong.add(2, get('x', 'b'), 5, 6);
    assertNotOk(indWrong.ops, 'x');
  });

  test('8. delete makes the key absent', () => {
    const h = history();
    h.add(1, put('x', 'a'), 0, 1);
    h.add(1, del('x'), 2, 3);
    h.add(2, get('x', undefined), 4, 5);
    assertOk(h.ops);

    const bad = history();
    bad.add(1, put('x', 'a'), 0, 1);
    bad.add(1, del('x'), 2, 3);
    bad.add(2, get('x', 'a'), 4, 5);
    assertNotOk(bad.ops, 'x');

    const indetDelete = history(); // an indeterminate delete may explain a later absent read
    indetDelete.add(1, put('x', 'a'), 0, 1);
    indetDelete.add(1, del('x'), 2, INDET);
    indetDelete.add(2, get('x', undefined), 4, 5);
    assertOk(indetDelete.ops);
  });

  test('9. keys are independent: a violation on "b" is reported as "b" while "a" is fine', () => {
    const h = history();
    h.add(1, put('a', '1'), 0, 1);
    h.add(2, put('b', '1'), 0, 1);
    h.add(1, put('b', '2'), 2, 3);
    h.add(2, get('a', '1'), 4, 5);
    h.add(3, get('b', '1'), 4, 5);
    h.add(3, get('a', '1'), 6, 7);
    assertNotOk(h.ops, 'b');
    // The same ops without the bad read on b are fine; a value on one key never satisfies a read on another.
    assertOk(h.ops.filter((o) => o.id !== 4));
    const cross = history();
    cross.add(1, put('a', 'v'), 0, 1);
    cross.add(2, get('b', 'v'), 2, 3);
    assertNotOk(cross.ops, 'b');
  });

  test('10. property: simulated atomic-register histories are ok; a never-written read breaks them', () => {
    let mutated = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const opts: SimOptions = {
        keys: seed % 3 === 0 ? ['k'] : ['k0', 'k1', 'k2'],
        clients: 2 + (seed % 6),
        opsPerClient: 6 + (seed % 10),
        values: seed % 2 === 0 ? ['a', 'b'] : ['a', 'b', 'c', 'd', 'e'],
        indetProb: seed % 4 === 0 ? 0 : 0.1,
        integerTimes: seed % 5 < 2,
      };
      const ops = simulate(seed, opts);
      const r = checkLinearizable(ops);
      assert.equal(r.ok, true, `seed ${seed}: ${r.explanation}`);

      const rnd = mulberry32(seed * 7919);
      const reads = ops.filter((h) => h.op.kind === 'get' && h.ret !== INDET);
      if (reads.length === 0) continue;
      const victim = reads[Math.floor(rnd() * reads.length)]!;
      const mutatedOps = ops.map((h) =>
        h === victim ? { ...h, op: { ...h.op, result: 'value-nobody-wrote' } as KvOp } : h,
      );
      const m = checkLinearizable(mutatedOps);
      assert.equal(m.ok, false, `seed ${seed}: mutation of op #${victim.id} went unnoticed`);
      assert.equal(m.timedOut, undefined);
      assert.equal(m.key, victim.op.key);
      mutated++;
    }
    assert.ok(mutated >= 50, `only ${mutated} histories had a read to mutate`);
  });

  test('10b. agrees with a brute-force oracle on small random (often non-linearizable) histories', () => {
    const rnd = mulberry32(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const vals = ['a', 'b', undefined] as const;
    let yes = 0;
    let no = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const h = history();
      const n = 1 + Math.floor(rnd() * 7);
      for (let i = 0; i < n; i++) {
        const key = rnd() < 0.8 ? 'x' : 'y';
        const r = rnd();
        const v = pick(['a', 'b']);
        const op =
          r < 0.3
            ? put(key, v)
            : r < 0.6
              ? get(key, pick(vals))
              : r < 0.85
                ? cas(key, pick(vals), v, rnd() < 0.5)
                : del(key);
        const call = Math.floor(rnd() * 10);
        const ret = rnd() < 0.15 ? INDET : call + Math.floor(rnd() * 6);
        h.add(Math.floor(rnd() * 3), op, call, ret);
      }
      const expected = bruteForceLinearizable(h.ops);
      const got = checkLinearizable(h.ops);
      assert.equal(got.ok, expected, `mismatch on history ${JSON.stringify(h.ops)}`);
      if (expected) yes++;
      else no++;
    }
    // Make sure the random histories exercise both outcomes.
    assert.ok(yes > 300 && no > 300, `unbalanced sample: ${yes} ok / ${no} not ok`);
  });

  test('budget: exceeding maxStatesPerKey reports ok=false, timedOut=true; definite violations win', () => {
    const big = simulate(7, {
      keys: ['big'],
      clients: 8,
      opsPerClient: 20,
      values: ['a', 'b'],
      indetProb: 0.05,
      integerTimes: false,
    });
    assert.equal(checkLinearizable(big).ok, true);
    const r = checkLinearizable(big, { maxStatesPerKey: 10 });
    assert.deepEqual(r, { ok: false, timedOut: true, key: 'big', explanation: 'search budget exceeded' });

    const bad = history();
    bad.add(1, put('bad', '1'), 0, 1);
    bad.add(1, put('bad', '2'), 2, 3);
    bad.add(2, get('bad', '1'), 4, 5);
    const both = [...big, ...bad.ops.map((o) => ({ ...o, id: o.id + 10_000 }))];
    const r2 = checkLinearizable(both, { maxStatesPerKey: 10 });
    assert.equal(r2.ok, false);
    assert.equal(r2.timedOut, undefined);
    assert.equal(r2.key, 'bad');
  });

  test('rejects malformed intervals', () => {
    assert.throws(
      () => checkLinearizable([{ id: 0, client: 0, op: put('x', 'a'), call: 5, ret: 4 }]),
      RangeError,
    );
    assert.throws(
      () => checkLinearizable([{ id: 0, client: 0, op: put('x', 'a'), call: Infinity, ret: Infinity }]),
      RangeError,
    );
  });

  test('11. performance smoke (prints timings, asserts only correctness)', () => {
    // 50 keys x 40 ops, 8 concurrent clients per key, ~4 indeterminate ops per key.
    const multi: HistoryOp[] = [];
    for (let k = 0; k < 50; k++) {
      const sub = simulate(1000 + k, {
        keys: [`key-${k}`],
        clients: 8,
        opsPerClient: 5,
        values: ['a', 'b', 'c'],
        indetProb: 0.1,
        integerTimes: false,
      });
      for (const h of sub) multi.push({ ...h, id: multi.length });
    }
    assert.equal(multi.length, 2000);
    const t0 = performance.now();
    const r1 = checkLinearizable(multi);
    const t1 = performance.now();
    assert.equal(r1.ok, true, r1.explanation);
    console.log(`perf: 50 keys x 40 ops (2000 ops): ${(t1 - t0).toFixed(1)} ms`);

    // ~300 ops on one key, 8 clients (<= 8 overlapping).
    const single = simulate(77, {
      keys: ['hot'],
      clients: 8,
      opsPerClient: 38,
      values: ['a', 'b', 'c'],
      indetProb: 0.02,
      integerTimes: false,
    });
    const t2 = performance.now();
    const r2 = checkLinearizable(single);
    const t3 = performance.now();
    assert.equal(r2.ok, true, r2.explanation);
    console.log(`perf: 1 key x ${single.length} ops: ${(t3 - t2).toFixed(1)} ms`);

    // The same history with the last completed read corrupted: the search must exhaust before failing.
    const reads = single.filter((h) => h.op.kind === 'get' && h.ret !== INDET);
    const victim = reads.reduce((a, b) => (b.call > a.call ? b : a));
    const corrupted = single.map((h) => (h === victim ? { ...h, op: get('hot', 'nobody-wrote-this') } : h));
    const t4 = performance.now();
    const r3 = checkLinearizable(corrupted);
    const t5 = performance.now();
    assert.equal(r3.ok, false);
    assert.equal(r3.timedOut, undefined);
    console.log(`perf: 1 key x ${single.length} ops, non-linearizable: ${(t5 - t4).toFixed(1)} ms`);
  });
});
