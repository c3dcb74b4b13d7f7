/**
 * Linearizability checker for the dkv key-value API (put / get / cas / delete).
 *
 * Algorithm: Wing & Gong's search as improved by Lowe ("Testing for Linearizability", 2017), i.e. the
 * "WGL" algorithm with memoization, in the same shape as the Go library porcupine:
 *
 *  - The history is split by key (P-compositionality, Horn & Kroening 2015): the KV map is a product of
 *    independent registers, so the whole history is linearizable iff every per-key sub-history is.
 *  - Each per-key sub-history becomes a doubly-linked list of call/return events sorted by time. The search
 *    repeatedly tries to linearize ("lift") a pending call whose operation is legal in the current register
 *    state, and backtracks ("unlift") when it meets a return event whose call has not been linearized yet.
 *  - A cache of (set of linearized ops, register state) pairs prunes configurations that were already
 *    explored: reaching the same pair again can only lead to the same (failed) outcome.
 *
 * Time semantics: operation A happens-before B iff `A.ret < B.call` (strictly). Equal timestamps
 * (`A.ret === B.call`) are treated as concurrent, i.e. at equal times call events sort before return events.
 * Completed ops need `ret >= call` (zero-length intervals are accepted).
 *
 * Indeterminate ops (`ret === Infinity`: the client never learned the outcome):
 *  - an indeterminate get constrains nothing and is dropped;
 *  - an indeterminate put/delete/cas may take effect at any point after its call, or never. Its return event
 *    sits at +Infinity, after every other event, so the search may linearize it anywhere after its call; and
 *    as soon as every determinate op of the key is linearized the sub-history is accepted, which is exactly
 *    "the remaining indeterminate ops never took effect". An indeterminate cas that does take effect follows
 *    the normal cas semantics with its `swapped` output ignored (a failing cas is a no-op).
 */

/** One key-value operation with its input and, for get and cas, its observed output. */
export type KvOp =
  | { kind: 'put'; key: string; value: string }
  | {
      kind: 'get';
      key: string;
      /** output; undefined = key absent */
      result?: string | undefined;
    }
  | {
      kind: 'cas';
      key: string;
      /** undefined = expect the key to be absent (create-if-absent) */
      expected: string | undefined;
      value: string;
      /** output; ignored when the op is indeterminate (and treated as unknown if left undefined) */
      swapped?: boolean;
    }
  | { kind: 'delete'; key: string };

/** One client operation of a recorded history: invoked at `call`, answered at `ret` (Infinity = never answered). */
export interface HistoryOp {
  id: number;
  client: number;
  op: KvOp;
  call: number;
  /** Infinity = indeterminate: the client never learned the outcome (it may or may not have taken effect) */
  ret: number;
}

/** Outcome of a linearizability check; when `ok` is false, `key` and `explanation` say what failed. */
export interface LinearizabilityResult {
  ok: boolean;
  /** when !ok: the key whose history cannot be linearized, and a short human-readable explanation (the ops of that key, sorted by call time, formatted one per line) */
  key?: string;
  explanation?: string;
  /** true if the search gave up because of the budget */
  timedOut?: boolean;
}

const DEFAULT_MAX_STATES_PER_KEY = 2_000_000;

/**
 * Checks whether `history` is linearizable w.r.t. a key-value map (see the module comment for the exact
 * semantics); a search exceeding `maxStatesPerKey` explored states on some key yields `{ ok: false, timedOut: true }`.
 */
export function checkLinearizable(
  history: HistoryOp[],
  opts?: { maxStatesPerKey?: number },
): LinearizabilityResult {
  const maxStates = opts?.maxStatesPerKey ?? DEFAULT_MAX_STATES_PER_KEY;
  const byKey = new Map<string, HistoryOp[]>();
  for (const h of history) {
    validate(h);
    let ops = byKey.get(h.op.key);
    if (ops === undefined) {
      ops = [];
      byKey.set(h.op.key, ops);
    }
    ops.push(h);
  }

  // A definite violation on any key is more useful than a timeout, so only report a timeout at the end.
  let timedOutKey: string | undefined;
  for (const [key, ops] of byKey) {
    const outcome = checkRegister(ops, maxStates);
    if (outcome.kind === 'ok') continue;
    if (outcome.kind === 'timeout') {
      timedOutKey ??= key;
      continue;
    }
    return { ok: false, key, explanation: explain(key, ops, outcome.longest) };
  }
  if (timedOutKey !== undefined) {
    return { ok: false, timedOut: true, key: timedOutKey, explanation: 'search budget exceeded' };
  }
  return { ok: true };
}

function validate(h: HistoryOp): void {
  if (!Number.isFinite(h.call)) {
    throw new RangeError(`op #${h.id}: call time must be finite, got ${h.call}`);
  }
  if (Number.isNaN(h.ret) || h.ret < h.call) {
    throw new RangeError(`op #${h.id}: ret (${h.ret}) must be >= call (${h.call}) or Infinity`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Single-register search
// ---------------------------------------------------------------------------------------------------------

const PUT = 0;
const DELETE = 1;
const GET = 2;
const CAS = 3;

const SWAPPED_FALSE = 0;
const SWAPPED_TRUE = 1;
const SWAPPED_UNKNOWN = 2;

type RegisterOutcome = { kind: 'ok' } | { kind: 'timeout' } | { kind: 'fail'; longest: HistoryOp[] };

const OK: RegisterOutcome = { kind: 'ok' };
const TIMEOUT: RegisterOutcome = { kind: 'timeout' };

/**
 * WGL search over one key's sub-history. Register values are interned to small integers (0 = absent).
 * Linked-list nodes: 0 = head sentinel, 1..n = call of op i-1, n+1..2n = return of op i-n-1; -1 = end.
 */
function checkRegister(allOps: HistoryOp[], maxStates: number): RegisterOutcome {
  // An indeterminate get has no observable output, so it cannot constrain anything: drop it.
  const ops = allOps.filter((h) => !(h.op.kind === 'get' && h.ret === Infinity));
  const n = ops.length;
  if (n === 0) return OK;

  const valueIds = new Map<string, number>();
  const intern = (v: string | undefined): number => {
    if (v === undefined) return 0;
    let id = valueIds.get(v);
    if (id === undefined) {
      id = valueIds.size + 1;
      valueIds.set(v, id);
    }
    return id;
  };

  const kind = new Uint8Array(n);
  const argA = new Int32Array(n); // put: value, get: result, cas: expected
  const argB = new Int32Array(n); // cas: new value
  const swapped = new Uint8Array(n); // cas only
  const indet = new Uint8Array(n);
  let determinate = 0;
  for (let i = 0; i < n; i++) {
    const h = ops[i]!;
    const isIndet = h.ret === Infinity;
    indet[i] = isIndet ? 1 : 0;
    if (!isIndet) determinate++;
    const op = h.op;
    switch (op.kind) {
      case 'put':
        kind[i] = PUT;
        argA[i] = intern(op.value);
        break;
      case 'delete':
        kind[i] = DELETE;
        break;
      case 'get':
        kind[i] = GET;
        argA[i] = intern(op.result);
        break;
      case 'cas':
        kind[i] = CAS;
        argA[i] = intern(op.expected);
        argB[i] = intern(op.value);
        swapped[i] =
          isIndet || op.swapped === undefined ? SWAPPED_UNKNOWN : op.swapped ? SWAPPED_TRUE : SWAPPED_FALSE;
        break;
    }
  }
  if (determinate === 0) return OK; // every op may simply never have taken effect

  // Event list sorted by time; at equal times calls come first (so A.ret === B.call is concurrent).
  const nodes = new Int32Array(2 * n);
  const times = new Float64Array(2 * n + 1);
  for (let i = 0; i < n; i++) {
    nodes[2 * i] = i + 1;
    nodes[2 * i + 1] = n + 1 + i;
    times[i + 1] = ops[i]!.call;
    times[n + 1 + i] = ops[i]!.ret;
  }
  nodes.sort((x, y) => {
    const dt = times[x]! - times[y]!;
    if (dt !== 0 && !Number.isNaN(dt)) return dt; // NaN only for Infinity - Infinity
    return x - y; // call nodes (<= n) before return nodes; ties among same kind by op order
  });
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = 0;
  for (const node of nodes) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  next[last] = -1;

  // Lift removes a call node and its return node from the list; unlift restores them (LIFO order).
  const lift = (c: number): void => {
    const r = c + n;
    next[prev[c]!] = next[c]!;
    prev[next[c]!] = prev[c]!; // a call is never last: its return follows it
    const rn = next[r]!;
    next[prev[r]!] = rn;
    if (rn !== -1) prev[rn] = prev[r]!;
  };
  const unlift = (c: number): void => {
    const r = c + n;
    const rn = next[r]!;
    next[prev[r]!] = r;
    if (rn !== -1) prev[rn] = r;
    next[prev[c]!] = c;
    prev[next[c]!] = c;
  };

  // Zobrist hashing of the linearized set, maintained incrementally.
  const zobrist = new Int32Array(n);
  let seed = 0x2545f491;
  for (let i = 0; i < n; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    zobrist[i] = t ^ (t >>> 14);
  }

  const words = (n + 31) >>> 5;
  const linearized = new Uint32Array(words);
  const cache = new StateCache(words);
  let setHash = 0;
  let state = 0;
  const stackCall = new Int32Array(n);
  const stackState = new Int32Array(n);
  let sp = 0;
  let remaining = determinate;
  let explored = 0;
  let longest: Int32Array = new Int32Array(0);

  let entry = next[0]!;
  while (entry !== -1) {
    if (entry <= n) {
      // Call event: try to linearize this op now.
      const i = entry - 1;
      let newState = -1;
      switch (kind[i]) {
        case PUT:
          newState = argA[i]!;
          break;
        case DELETE:
          newState = 0;
          break;
        case GET:
          if (state === argA[i]) newState = state;
          break;
        default: {
          // CAS
          const sw = swapped[i]!;
          if (state === argA[i]) {
            if (sw !== SWAPPED_FALSE) newState = argB[i]!;
          } else if (sw !== SWAPPED_TRUE) {
            newState = state;
          }
        }
      }
      // An indeterminate op that would not change the state is never worth linearizing: leaving it out keeps
      // the same state with strictly more options later (it is optional and never blocks anything).
      if (newState >= 0 && !(indet[i] === 1 && newState === state)) {
        const w = i >>> 5;
        const bit = 1 << (i & 31);
        linearized[w]! |= bit;
        const h = setHash ^ zobrist[i]!;
        if (cache.insert(linearized, newState, h)) {
          if (++explored > maxStates) return TIMEOUT;
          stackCall[sp] = entry;
          stackState[sp] = state;
          sp++;
          setHash = h;
          state = newState;
          lift(entry);
          if (indet[i] === 0 && --remaining === 0) return OK;
          entry = next[0]!;
          continue;
        }
        linearized[w]! &= ~bit;
      }
      entry = next[entry]!;
    } else {
      // Return event of an op not yet linearized. Determinate returns all precede the +Infinity ones and
      // `remaining > 0`, so this is a determinate op: the current prefix is a dead end; backtrack.
      if (sp > longest.length) longest = stackCall.slice(0, sp);
      if (sp === 0) {
        return { kind: 'fail', longest: Array.from(longest, (c) => ops[c - 1]!) };
      }
      sp--;
      const c = stackCall[sp]!;
      const i = c - 1;
      state = stackState[sp]!;
      linearized[i >>> 5]! &= ~(1 << (i & 31));
      setHash ^= zobrist[i]!;
      if (indet[i] === 0) remaining++;
      unlift(c);
      entry = next[c]!;
    }
  }
  // Unreachable: the list only empties once every op (in particular every determinate op) is linearized.
  return OK;
}

/**
 * Open-addressing hash set of (linearized bitset, state) pairs, stored flat in typed arrays so that millions
 * of entries cost no per-entry allocation.
 */
class StateCache {
  private readonly stride: number;
  private pool: Uint32Array;
  private count = 0;
  private slots: Int32Array; // entry index, -1 = empty
  private slotHashes: Int32Array;
  private mask: number;

  constructor(private readonly words: number) {
    this.stride = words + 1;
    this.pool = new Uint32Array(this.stride * 1024);
    this.slots = new Int32Array(2048).fill(-1);
    this.slotHashes = new Int32Array(2048);
    this.mask = 2047;
  }

  /** Adds the pair; returns false if it was already present. */
  insert(set: Uint32Array, state: number, setHash: number): boolean {
    const h = fmix32(setHash ^ Math.imul(state + 1, 0x9e3779b1));
    const { words, stride, pool, slots, slotHashes, mask } = this;
    let s = h & mask;
    for (;;) {
      const e = slots[s]!;
      if (e === -1) break;
      if (slotHashes[s] === h) {
        const base = e * stride;
        if (pool[base + words] === state) {
          let same = true;
          for (let k = 0; k < words; k++) {
            if (pool[base + k] !== set[k]) {
              same = false;
              break;
            }
          }
          if (same) return false;
        }
      }
      s = (s + 1) & mask;
    }

    if ((this.count + 1) * this.stride > pool.length) {
      const grown = new Uint32Array(pool.length * 2);
      grown.set(pool);
      this.pool = grown;
    }
    const base = this.count * stride;
    this.pool.set(set, base);
    this.pool[base + words] = state;
    slots[s] = this.count;
    slotHashes[s] = h;
    this.count++;
    if (this.count * 2 > mask) this.grow();
    return true;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    const size = oldSlots.length * 2;
    this.slots = new Int32Array(size).fill(-1);
    this.slotHashes = new Int32Array(size);
    this.mask = size - 1;
    for (let s = 0; s < oldSlots.length; s++) {
      const e = oldSlots[s]!;
      if (e === -1) continue;
      const h = oldHashes[s]!;
      let t = h & this.mask;
      while (this.slots[t] !== -1) t = (t + 1) & this.mask;
      this.slots[t] = e;
      this.slotHashes[t] = h;
    }
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// ---------------------------------------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------------------------------------

function explain(key: string, ops: HistoryOp[], longest: HistoryOp[]): string {
  const sorted = [...ops].sort((a, b) => a.call - b.call || a.ret - b.ret || a.id - b.id);
  const prefix = longest.length === 0 ? '(none)' : longest.map((h) => `#${h.id}`).join(' ');
  const lines = [
    `key ${JSON.stringify(key)}: no linearization of these ${ops.length} ops (sorted by call time) exists`,
    `longest linearizable prefix found: ${prefix}`,
  ];
  for (const h of sorted) lines.push(`  ${formatOp(h)}`);
  return lines.join('\n');
}

function formatOp(h: HistoryOp): string {
  const indet = h.ret === Infinity;
  const v = (x: string | undefined): string => (x === undefined ? 'absent' : JSON.stringify(x));
  let desc: string;
  const op = h.op;
  switch (op.kind) {
    case 'put':
      desc = `put ${v(op.value)}`;
      break;
    case 'delete':
      desc = 'delete';
      break;
    case 'get':
      desc = indet ? 'get -> ? (ignored)' : `get -> ${v(op.result)}`;
      break;
    case 'cas': {
      const out = indet || op.swapped === undefined ? '?' : op.swapped ? 'swapped' : 'not swapped';
      desc = `cas ${v(op.expected)} => ${v(op.value)} -> ${out}`;
      break;
    }
  }
  const interval = indet ? `[${h.call}, ∞)` : `[${h.call}, ${h.ret}]`;
  return `#${h.id} client ${h.client} ${interval} ${desc}${indet ? ' (indeterminate)' : ''}`;
}
