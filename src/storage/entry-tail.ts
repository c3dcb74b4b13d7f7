import { type Entry, entrySize } from '../raft/index.js';

/**
 * The newest entries of the Raft log, kept in memory as they are written.
 * The core reads back almost only what was appended moments ago: a follower
 * the committed entries it applies, a leader the entries it sends to a
 * follower a little behind, and both the term of the entry before every
 * append. Served from here, those reads cost no LMDB cursor, copy or
 * checksum. Bounded by entry count and bytes; older entries are read from
 * LMDB as before.
 *
 * Holds a contiguous run [first, first + length): appending at an index
 * inside the run drops everything from there (a conflicting tail), appending
 * past its end starts a new run.
 */
export class EntryTail {
  private ents: Entry[] = [];
  /** Entries before `head` in `ents` were dropped (trimmed lazily, see trimFront). */
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The index of the first entry held (meaningless when empty). */
  private first(): number {
    return this.ents[this.head]?.index ?? 0;
  }

  get size(): number {
    return this.ents.length - this.head;
  }

  /** The entry at `index`, if held. */
  get(index: number): Entry | undefined {
    if (this.size === 0) return undefined;
    const i = index - this.first();
    return i >= 0 && i < this.size ? this.ents[this.head + i] : undefined;
  }

  /** Entries [lo, hi) if every one of them is held, else null. */
  slice(lo: number, hi: number): Entry[] | null {
    if (this.size === 0 || lo < this.first() || hi > this.first() + this.size) return null;
    const from = this.head + (lo - this.first());
    return this.ents.slice(from, from + (hi - lo));
  }

  /** Record entries just written to the log (contiguous, as the store checks). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const start = entries[0]!.index;
    if (this.size > 0 && start >= this.first() && start <= this.first() + this.size) {
      this.truncateFrom(start);
    } else {
      this.clear();
    }
    for (const e of entries) {
      this.ents.push(e);
      this.bytes += entrySize(e);
    }
    while (this.size > 1 && (this.size > this.maxEntries || this.bytes > this.maxBytes)) this.dropFirst();
    this.trimFront();
  }

  /** Forget entries up to and including `index` (compacted away). */
  compactTo(index: number): void {
    while (this.size > 0 && this.first() <= index) this.dropFirst();
    this.trimFront();
  }

  clear(): void {
    this.ents = [];
    this.head = 0;
    this.bytes = 0;
  }

  private truncateFrom(index: number): void {
    const keep = this.head + (index - this.first());
    for (let i = keep; i < this.ents.length; i++) this.bytes -= entrySize(this.ents[i]!);
    this.ents.length = keep;
  }

  private dropFirst(): void {
    this.bytes -= entrySize(this.ents[this.head]!);
    this.head++;
  }

  /** Shift the array once the dropped prefix is as long as what is held: amortised O(1) per entry. */
  private trimFront(): void {
    if (this.head > 0 && this.head >= this.size) {
      this.ents = this.ents.slice(this.head);
      this.head = 0;
    }
  }
}
