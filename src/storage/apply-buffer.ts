/**
 * Applied state that is not yet in LMDB, in layers over it (etcd's backend
 * keeps the same kind of buffer over bbolt).
 *
 * Why: a client's reply rests on its entry being durable in a majority of
 * logs, not on this node's apply being on disk (a restart re-applies from the
 * log: the applied index is written in the same transaction as the changes it
 * covers). So committed entries are applied here, in memory, at once, and
 * their changes reach LMDB some 500 ms later (APPLY_WRITE_DELAY_MS) with the
 * next write group (usually a log append, whose transaction and fsync they
 * share). Without the buffer every apply cost a transaction and its flush on
 * the reply path, and under load the applies took half of the writer thread's
 * commits.
 *
 * Layers, oldest first: sealed layers taken into a transaction that has not
 * yet reported back, then the open layer that applies write into. A reader
 * looks from the newest layer down, then in LMDB; a sealed layer is dropped
 * only after its transaction is committed (visible to LMDB reads), so every
 * read sees every applied change.
 */
import type { ConfState } from '../raft/index.js';
import type { StoredValue } from './types.js';

/** Key changes (null: deleted) and applied metadata of a run of applied entries. */
export class ApplyLayer {
  /** Key (as a latin1 string: one char per byte, so string order is byte order) -> new value or null. */
  readonly kv = new Map<string, StoredValue | null>();
  /** Key and value bytes set here, overwritten ones included (an upper bound on what the layer holds). */
  bytes = 0;
  /** The index of the last entry applied into this layer (0: none). */
  applied = 0;
  /** Membership after this layer's conf changes, when it has any. */
  confState: ConfState | null = null;
  members: Map<string, string> | null = null;

  /** Record a key's new value (null: deleted). */
  set(k: string, v: StoredValue | null): void {
    this.kv.set(k, v);
    this.bytes += k.length + (v?.value.length ?? 0);
  }

  isEmpty(): boolean {
    return this.applied === 0;
  }

  /** Fold a later layer into this one (its values win). */
  absorb(later: ApplyLayer): void {
    for (const [k, v] of later.kv) this.kv.set(k, v);
    this.bytes += later.bytes;
    if (later.applied !== 0) this.applied = later.applied;
    if (later.confState) this.confState = later.confState;
    if (later.members) this.members = later.members;
  }
}

/** A key change read from the buffer, for merging with an LMDB range. */
export interface BufferedChange {
  key: Buffer;
  value: StoredValue | null;
}

export class ApplyBuffer {
  /** Sealed layers, oldest first, each in a transaction that has not reported back. */
  private sealed: ApplyLayer[] = [];
  private open = new ApplyLayer();

  /** The buffered state of a key: a value, null if deleted, undefined if not buffered (read LMDB). */
  get(key: Buffer): StoredValue | null | undefined {
    const k = key.toString('latin1');
    const v = this.open.kv.get(k);
    if (v !== undefined) return v;
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const s = this.sealed[i]!.kv.get(k);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  /** The last applied index held here, or 0 if nothing is buffered. */
  applied(): number {
    if (!this.open.isEmpty()) return this.open.applied;
    return this.sealed.length > 0 ? this.sealed[this.sealed.length - 1]!.applied : 0;
  }

  /** The newest buffered membership, or null. */
  membership(): { confState: ConfState; members: Map<string, string> } | null {
    const open = this.open;
    if (open.confState && open.members) return { confState: open.confState, members: open.members };
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const layer = this.sealed[i]!;
      if (layer.confState && layer.members) return { confState: layer.confState, members: layer.members };
    }
    return null;
  }

  /** Add a run of applied changes (made against the state this buffer shows). */
  add(layer: ApplyLayer): void {
    this.open.absorb(layer);
  }

  /** How many keys the open layer holds. */
  openKeys(): number {
    return this.open.kv.size;
  }

  /** At most how many key and value bytes the open layer holds. */
  openBytes(): number {
    return this.open.bytes;
  }

  /**
   * Seal the open layer for writing into a transaction and start a new one; null if it is empty.
   * The sealed layer stays visible to readers until release().
   */
  seal(): ApplyLayer | null {
    if (this.open.isEmpty()) return null;
    const layer = this.open;
    this.sealed.push(layer);
    this.open = new ApplyLayer();
    return layer;
  }

  /** The transaction holding `layer` is committed: LMDB shows it now. */
  release(layer: ApplyLayer): void {
    const i = this.sealed.indexOf(layer);
    if (i >= 0) this.sealed.splice(i, 1);
  }

  /** Forget every layer: LMDB now holds a state that replaces them (a snapshot was installed). */
  reset(): void {
    this.sealed = [];
    this.open = new ApplyLayer();
  }

  /**
   * Buffered changes of keys in [from, to) (to null: no upper bound), newest state per key,
   * in byte order. `fromExclusive` leaves out `from` itself.
   */
  changesIn(from: Buffer | null, fromExclusive: boolean, to: Buffer | null): BufferedChange[] {
    const lo = from?.toString('latin1') ?? null;
    const hi = to?.toString('latin1') ?? null;
    const seen = new Map<string, StoredValue | null>();
    // Oldest first, so newer layers overwrite.
    for (const layer of [...this.sealed, this.open]) {
      for (const [k, v] of layer.kv) {
        if (lo !== null && (fromExclusive ? k <= lo : k < lo)) continue;
        if (hi !== null && k >= hi) continue;
        seen.set(k, v);
      }
    }
    const keys = [...seen.keys()].sort();
    return keys.map((k) => ({ key: Buffer.from(k, 'latin1'), value: seen.get(k)! }));
  }
}
